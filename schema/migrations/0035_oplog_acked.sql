-- Issue 12 §5: which of the site's operations the server acknowledged, as ranges of site_seqs
-- (core/src/acked_ranges.rs, core/src/store/acked.rs), one row for a whole batch, instead of a
-- server_seq written into every log row: marking a 1,000-operation batch sent rewrote 1,000 rows
-- of the encrypted store and was the largest part of a laptop's push. Nothing read the number back,
-- only whether it was set. The acknowledgements already in the log become ranges here;
-- oplog.server_seq stays as it was (rewriting a long log would stop the upgrade) and is neither
-- written nor read from this schema on.
CREATE TABLE oplog_acked (
    first_site_seq INTEGER PRIMARY KEY,
    last_site_seq  INTEGER NOT NULL,
    CHECK (last_site_seq >= first_site_seq)
) STRICT;

-- Consecutive acknowledged site_seqs share `site_seq - row number`: one range each.
INSERT INTO oplog_acked (first_site_seq, last_site_seq)
SELECT MIN(site_seq), MAX(site_seq)
FROM (
    SELECT site_seq, site_seq - ROW_NUMBER() OVER (ORDER BY site_seq) AS island
    FROM oplog
    WHERE server_seq IS NOT NULL
)
GROUP BY island;

DROP INDEX oplog_unacked;
