-- Issue 12 §4: the large values a push writes (each row's history, its visible values, each log
-- record's operations) compressed with lz4 instead of PostgreSQL's default pglz, which took 5 % of
-- both cores under the 200-office load. Values stored before keep their compression until rewritten;
-- both are read alike. A PostgreSQL built without lz4 keeps pglz (the master works the same).
DO $$
BEGIN
    ALTER TABLE master_row ALTER COLUMN history SET COMPRESSION lz4;
    ALTER TABLE master_row ALTER COLUMN vals SET COMPRESSION lz4;
    ALTER TABLE log_record ALTER COLUMN ops SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available in this PostgreSQL build; keeping pglz';
END
$$;
