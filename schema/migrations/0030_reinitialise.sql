-- Issue 10 §5: while a site re-initialises (its pull cursor could not be served incrementally: its
-- scope or its schema changed), the rows the full pull brings back are noted here; at the end, rows
-- it did not bring back and this site never wrote have left the site's scope and are removed.
-- Local only, never replicated; emptied when the re-initialisation ends.
CREATE TABLE reinit_seen (
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    PRIMARY KEY (tbl, row_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX oplog_tbl_row ON oplog (tbl, row_id);
