-- Day-to-day supervision records of a corrections case (C-10..C-12, C-15, C-16, L-8): labour, education,
-- psychological sessions, thought reports, visitors, reprimands, warnings, commendations, periods out of
-- contact, and the later "corrected" notes on a discipline entry. Append-only: never edited, never conflict.
CREATE TABLE corr_entry (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    case_id      TEXT,
    kind         TEXT,
    occurred_on  TEXT,
    minutes      INTEGER,
    days         INTEGER,
    ref_entry_id TEXT,
    note         TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_entry_case ON corr_entry (case_id, occurred_on);
