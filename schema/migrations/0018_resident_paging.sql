-- W-1 "paging 100,000 residents stays instant" (core/benches/residents_paging.rs, BENCHMARKS.md).
-- The list index holds the list's order and every filter column, so skipping rows for a deep page never
-- reads the table (whose rows carry the field history blob).
CREATE INDEX resident_list ON resident (building, unit, room, name_initials, id, org_unit_id, merged_into, _deleted, special_groups);
-- Counting a scope's residents reads only this.
CREATE INDEX resident_scope ON resident (org_unit_id, _deleted, merged_into);
-- "Any part" of a name, ID number or phone is a scan of this narrow index, not of the table.
CREATE INDEX resident_search ON resident (name, id_number, phone, org_unit_id, merged_into, id);
-- The registrations merged into a resident (shown with it; a search matching them finds it).
CREATE INDEX resident_merged_into ON resident (merged_into) WHERE merged_into IS NOT NULL;
