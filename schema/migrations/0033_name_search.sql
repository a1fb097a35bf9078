-- Issue 14 §5: a minority name (买买提·艾力) is found however its middle dot was typed (·, •, ・, ．, ., a
-- space, or none). Each searched name gets a derived column, the name with every middle-dot look-alike
-- and space removed and full-width ASCII folded (core search::fold_name), written beside name_initials by
-- the merge; the rows already here are filled by the migration's Rust step (merge_sql::refill_derived),
-- which also recomputes name_initials (they now skip every kind of dot, not only · and •).
ALTER TABLE corr_case ADD COLUMN name_search TEXT;
ALTER TABLE resident ADD COLUMN name_search TEXT;
ALTER TABLE appeal ADD COLUMN name_search TEXT;
ALTER TABLE mediation_party ADD COLUMN name_search TEXT;
ALTER TABLE volunteer ADD COLUMN name_search TEXT;
ALTER TABLE corr_investigation ADD COLUMN name_search TEXT;
ALTER TABLE admission_request ADD COLUMN name_search TEXT;

-- W-1: "any part" of a name is a scan of the narrow search index, now by the folded name.
DROP INDEX resident_search;
CREATE INDEX resident_search ON resident (name_search, id_number, phone, org_unit_id, merged_into, id);
