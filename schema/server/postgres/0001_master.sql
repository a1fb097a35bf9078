-- The district master record on PostgreSQL (issue 12 §2). The same information as the SQLite master
-- (schema/server/0001-0006 plus core's replicated tables), laid out for a shared database server:
-- replicated rows are kept generically, one row per (table, id) with its whole field history, since
-- the merge rule is core's and runs in the server process; the audit log is in the database itself.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE site (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    org_unit_id         TEXT NOT NULL,
    created_at_ms       BIGINT NOT NULL,
    token_hash          TEXT UNIQUE,
    next_token_hash     TEXT UNIQUE,
    prev_token_hash     TEXT,
    token_issued_at_ms  BIGINT,
    enrolled_at_ms      BIGINT,
    device_label        TEXT,
    db_instance_id      TEXT,
    -- the head of the site's hash chain: the last accepted site_seq and its hash
    last_seq            BIGINT NOT NULL DEFAULT 0,
    last_hash           TEXT NOT NULL DEFAULT '',
    revoked             BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at_ms       BIGINT,
    revoked_by          TEXT,
    revoked_reason      TEXT,
    pull_fingerprint    TEXT,
    recovery_code       TEXT,
    recovery_code_at_ms BIGINT
);

CREATE TABLE enrolment_code (
    code_hash     TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES site (id),
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

CREATE TABLE recovery_code_read (
    site_id TEXT NOT NULL,
    read_by TEXT NOT NULL,
    at_ms   BIGINT NOT NULL
);

-- The audit log: one record per site per push (its operations encoded by core's codec). first_seq
-- is assigned under the log's advisory lock, held to the commit, so the log's order is its commit
-- order and a reader's head is a safe watermark (no record below it can still commit).
CREATE TABLE log_record (
    first_seq      BIGINT PRIMARY KEY,
    last_seq       BIGINT NOT NULL,
    origin_site    TEXT NOT NULL,
    first_site_seq BIGINT NOT NULL,
    last_site_seq  BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    ops            BYTEA NOT NULL
);
CREATE INDEX log_record_site ON log_record (origin_site, last_site_seq);

CREATE TABLE log_scope (
    scope     TEXT NOT NULL,
    tbl       TEXT NOT NULL,
    first_seq BIGINT NOT NULL,
    PRIMARY KEY (scope, tbl, first_seq)
);
CREATE INDEX log_scope_seq ON log_scope (first_seq);

-- A replicated row: its whole field history (core's RowVersions as JSON), the visible values the
-- policy and /records read, and its owning unit.
-- Ids and units compare byte by byte (COLLATE "C"), as in SQLite, whatever the database's locale: a
-- page of /records walks ids in the same order on both backends.
CREATE TABLE master_row (
    tbl      TEXT COLLATE "C" NOT NULL,
    id       TEXT COLLATE "C" NOT NULL,
    owner    TEXT COLLATE "C" NOT NULL DEFAULT '',
    vals     JSONB NOT NULL,
    versions JSONB NOT NULL,
    PRIMARY KEY (tbl, id)
);
CREATE INDEX master_row_owner ON master_row (tbl, owner, id);
-- L-6: a case's completed transfers (the policy asks whether a case left a site).
CREATE INDEX master_row_case ON master_row (tbl, (vals ->> 'case_id'));

CREATE TABLE conflict_item (
    id         TEXT PRIMARY KEY,
    tbl        TEXT NOT NULL,
    row_id     TEXT NOT NULL,
    field      TEXT NOT NULL,
    newer_json TEXT NOT NULL,
    older_json TEXT NOT NULL
);

CREATE TABLE scope_move (
    seq       BIGINT NOT NULL,
    n         BIGSERIAL,
    tbl       TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    from_unit TEXT NOT NULL,
    to_unit   TEXT NOT NULL
);
CREATE INDEX scope_move_seq ON scope_move (seq, n);

CREATE TABLE quarantine (
    site_id          TEXT NOT NULL,
    site_seq         BIGINT NOT NULL,
    received_at_ms   BIGINT NOT NULL,
    reason           TEXT NOT NULL,
    op               BYTEA NOT NULL,
    code             TEXT NOT NULL,
    reason_zh        TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'held',
    decided_by       TEXT,
    decided_at_ms    BIGINT,
    decision_note    TEXT,
    published_status TEXT,
    PRIMARY KEY (site_id, site_seq)
);

CREATE TABLE alarm (
    id      BIGSERIAL PRIMARY KEY,
    at_ms   BIGINT NOT NULL,
    site_id TEXT,
    code    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
