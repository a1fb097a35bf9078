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

-- The audit log: every operation ever accepted, forever, in server_seq order; one record per accepted
-- push batch of one site (or the server's own writes), holding its operations in site_seq order with
-- contiguous server_seqs from first_seq (operations held in quarantine are not in it). It is also the
-- idempotency record: a retried (site, site_seq) is found here by its site_seq range and compared by hash.
-- The records' bytes (core's ops codec) are in append-only segment files beside the master file
-- (`<master file>-oplog-000001`, …; sync-server/src/master/log_files.rs): this table is their index, and
-- a record exists only once the transaction that inserted its row committed (the bytes are fsynced
-- before it).
CREATE TABLE log_chunk (
    first_seq      INTEGER PRIMARY KEY,
    last_seq       INTEGER NOT NULL,
    origin_site    TEXT NOT NULL,
    first_site_seq INTEGER NOT NULL,
    last_site_seq  INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    segment        INTEGER NOT NULL,
    byte_offset    INTEGER NOT NULL,
    byte_len       INTEGER NOT NULL
) STRICT;
CREATE INDEX log_chunk_site ON log_chunk (origin_site, last_site_seq);

-- Which (scope, table) pairs each log record holds, so a pull reads only the records it may see
-- (and then keeps only the operations it may see).
CREATE TABLE log_scope (
    scope     TEXT NOT NULL,
    tbl       TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    PRIMARY KEY (scope, tbl, first_seq)
) STRICT, WITHOUT ROWID;

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
