-- Issue 12 §4: the org tree's version. Every request reads its site's place in the tree (the units it
-- covers, those above it); each server process keeps the places it read under the version they were
-- read at (sync-server/src/master/postgres/org_places.rs) instead of walking the tree again. Any
-- write of an org_unit row, by any process, gives the tree a new version. Random rather than
-- counted, so that a version names one state of the tree even across a restore.
INSERT INTO server_meta (key, value) VALUES ('org_version', gen_random_uuid()::text)
    ON CONFLICT (key) DO NOTHING;

CREATE FUNCTION jiceng_org_tree_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE server_meta SET value = gen_random_uuid()::text WHERE key = 'org_version';
    RETURN NULL;
END
$$;

-- Rows are never deleted (nothing is hard-deleted from the record), so inserts and updates are all
-- the writes there are.
CREATE TRIGGER master_row_org_tree_changed
    AFTER INSERT OR UPDATE ON master_row
    FOR EACH ROW WHEN (NEW.tbl = 'org_unit')
    EXECUTE FUNCTION jiceng_org_tree_changed();
