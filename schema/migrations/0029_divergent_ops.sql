-- Issue 10 §3: a store restored from a backup, or copied to a second PC, finds at its next sync that the
-- server holds more of its site's log than it does, or other operations under the same numbers. It then
-- takes the server's copy of its log, and sets aside here what it wrote that the server never had (the
-- divergent tail): kept, and sent again under new numbers for the district to review (held as
-- `divergent_copy`). Local only, never replicated.
CREATE TABLE divergent_op (
    site_seq        INTEGER NOT NULL,
    hash            TEXT NOT NULL,
    op_json         TEXT NOT NULL,
    set_aside_at_ms INTEGER NOT NULL,
    reissued_as     INTEGER,
    PRIMARY KEY (site_seq, hash)
) STRICT;
CREATE INDEX divergent_op_reissued ON divergent_op (reissued_as);
