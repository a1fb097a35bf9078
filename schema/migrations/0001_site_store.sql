-- Jiceng local store (every desktop) and the server's master record share this schema.
-- Domain tables hold the visible (winning) value of every field in plain columns for search and
-- reports, and the whole field history in `_versions` (binary, see core::codec). Only core's merge writes them.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- This site's own operations, in order, hash-chained. server_seq is set once the server acknowledged.
CREATE TABLE oplog (
    site_seq   INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    tbl        TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    op_json    TEXT NOT NULL,
    server_seq INTEGER
) STRICT;
CREATE INDEX oplog_unacked ON oplog (site_seq) WHERE server_seq IS NULL;
CREATE INDEX oplog_row ON oplog (row_id);

CREATE TABLE org_unit (
    id        TEXT PRIMARY KEY,
    parent_id TEXT,
    kind      TEXT,
    name      TEXT,
    _deleted  INTEGER,
    _versions BLOB NOT NULL
) STRICT;
CREATE INDEX org_unit_parent ON org_unit (parent_id);

CREATE TABLE app_user (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    username      TEXT,
    display_name  TEXT,
    role          TEXT,
    password_hash TEXT,
    _deleted      INTEGER,
    _versions     BLOB NOT NULL
) STRICT;
CREATE INDEX app_user_username ON app_user (username);

CREATE TABLE corr_case (
    id             TEXT PRIMARY KEY,
    org_unit_id    TEXT,
    name           TEXT,
    id_number      TEXT,
    sex            TEXT,
    birth_date     TEXT,
    kind           TEXT,
    sentence_start TEXT,
    sentence_end   TEXT,
    status         TEXT,
    _deleted       INTEGER,
    -- derived locally from name (not replicated): pinyin initials for search
    name_initials  TEXT,
    _versions      BLOB NOT NULL
) STRICT;
CREATE INDEX corr_case_org ON corr_case (org_unit_id);
CREATE INDEX corr_case_id_number ON corr_case (id_number);

CREATE TABLE corr_checkin (
    id          TEXT PRIMARY KEY,
    org_unit_id TEXT,
    case_id     TEXT,
    occurred_at TEXT,
    method      TEXT,
    note        TEXT,
    recorded_by TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
CREATE INDEX corr_checkin_case ON corr_checkin (case_id, occurred_at);

-- D-3: concurrent edits of one field to different values, found by the merge. Same id on every replica.
CREATE TABLE conflict (
    id         TEXT PRIMARY KEY,
    tbl        TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    field      TEXT NOT NULL,
    newer_json TEXT NOT NULL,
    older_json TEXT NOT NULL
) STRICT;
CREATE INDEX conflict_row ON conflict (row_id);
