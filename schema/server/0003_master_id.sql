-- Issue 10 §6: the master's own facts. `master_id` names this copy of the master record: made when the
-- master is created and made anew when it is restored from a backup, so a site whose pull cursor or
-- acknowledged operations belong to the copy before knows to pull again and to send again what the
-- restored master lacks.
CREATE TABLE IF NOT EXISTS server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
