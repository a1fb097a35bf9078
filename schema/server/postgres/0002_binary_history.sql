-- A replicated row's field history in core's binary row encoding (codec::encode_row) instead of JSON:
-- the merge parses and rewrites it for every row a push touches (issue 12 §7: the JSON history made the
-- PostgreSQL merge 15x slower than SQLite's). Rows of an older master are converted at the first start
-- (PgMaster::open, in Rust, which owns the encoding); `versions` stays readable until then.
ALTER TABLE master_row ADD COLUMN history BYTEA;
ALTER TABLE master_row ALTER COLUMN versions DROP NOT NULL;
