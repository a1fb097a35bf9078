-- The sync server's own tables, beside the replicated tables of schema/migrations/ in the master file.

-- One enrolled desktop (a site). Its write/read scope is the subtree of org_unit_id.
CREATE TABLE site (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    org_unit_id    TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    token_hash     TEXT UNIQUE,
    enrolled_at_ms INTEGER,
    device_label   TEXT,
    db_instance_id TEXT,
    -- idempotency cursor: the last accepted site_seq and its hash (the head of the site's hash chain)
    last_seq       INTEGER NOT NULL DEFAULT 0,
    last_hash      TEXT NOT NULL DEFAULT '',
    revoked        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time enrolment codes, stored hashed.
CREATE TABLE enrolment_code (
    code_hash     TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES site (id),
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER
) STRICT;

-- One accepted push (or the server's own writes): per operation its 32-byte hash and 8-byte server_seq,
-- so a retried push is recognised and a different operation under a known (site, seq) is detected.
CREATE TABLE push_batch (
    id             INTEGER PRIMARY KEY,
    site_id        TEXT NOT NULL,
    first_site_seq INTEGER NOT NULL,
    last_site_seq  INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    receipts       BLOB NOT NULL
) STRICT;
CREATE INDEX push_batch_site ON push_batch (site_id, last_site_seq);

-- The audit log: every operation ever accepted, forever, in server_seq order; one record per
-- (batch, scope, table) so a pull filters by scope without decoding what it may not see.
CREATE TABLE log_chunk (
    first_seq   INTEGER PRIMARY KEY,
    last_seq    INTEGER NOT NULL,
    batch_id    INTEGER NOT NULL REFERENCES push_batch (id),
    origin_site TEXT NOT NULL,
    scope       TEXT NOT NULL,
    tbl         TEXT NOT NULL,
    ops         BLOB NOT NULL
) STRICT;
CREATE INDEX log_chunk_scope ON log_chunk (scope, first_seq);

-- Operations stored and acknowledged but held back from the master: their clock was too far ahead of the
-- server's (a PC with a wrong date). Never merged, never delivered, never dropped; the district reviews.
CREATE TABLE quarantine (
    site_id        TEXT NOT NULL,
    site_seq       INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    op             BLOB NOT NULL,
    PRIMARY KEY (site_id, site_seq)
) STRICT;

-- What the district must look at: hash mismatches (cloned or restored databases), broken chains.
CREATE TABLE alarm (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    site_id TEXT,
    code    TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
