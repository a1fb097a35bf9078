-- L-12 minors: a sealed case keeps the subject's identity secret; every read of it is logged.
ALTER TABLE corr_case ADD COLUMN sealed_minor INTEGER;
CREATE TABLE corr_access_log (
    id          TEXT PRIMARY KEY,
    org_unit_id TEXT,
    case_id     TEXT,
    user_id     TEXT,
    user_name   TEXT,
    accessed_at TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
CREATE INDEX corr_access_log_case ON corr_access_log (case_id, accessed_at);
