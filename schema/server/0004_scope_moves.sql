-- Issue 10 §5: rows that changed owner (the L-6 handover moves a case and its records to the receiving
-- office). A pull tells the sites of the old owner to remove the row: it has left their read scope.
-- `seq` is the first server_seq of the log record holding the operation that moved it.
CREATE TABLE IF NOT EXISTS scope_move (
    seq       INTEGER NOT NULL,
    tbl       TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    from_unit TEXT NOT NULL,
    to_unit   TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS scope_move_seq ON scope_move (seq);
-- What a site's pull cursor was given under (its readable tables and units): a pull whose cursor was
-- given under another scope cannot be served incrementally and is told to re-initialise.
ALTER TABLE site ADD COLUMN pull_fingerprint TEXT;
