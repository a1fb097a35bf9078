-- Issue 11 §6: every read of a whistle-blower's appeal (W-2: the petitioner is protected) is logged,
-- append-only, with the appeal's community; it syncs to the community's PCs and the district and shows
-- in the appeal's history.
CREATE TABLE res_access_log (
    id          TEXT PRIMARY KEY,
    org_unit_id TEXT,
    appeal_id   TEXT,
    user_id     TEXT,
    user_name   TEXT,
    accessed_at TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
CREATE INDEX res_access_log_appeal ON res_access_log (appeal_id);
