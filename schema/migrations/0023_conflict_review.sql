-- D-3: the district's (or the office head's) decision on a conflict item: which value stands. The row id
-- is the conflict's id, identical on every replica. One table per domain, so a resolution travels exactly
-- where the conflicting record does.
CREATE TABLE corr_conflict_resolution (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    chosen_value  TEXT,
    resolved_by   TEXT,
    resolved_at   TEXT,
    note          TEXT,
    _deleted      INTEGER,
    _versions     BLOB NOT NULL
) STRICT;
CREATE TABLE res_conflict_resolution (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    chosen_value  TEXT,
    resolved_by   TEXT,
    resolved_at   TEXT,
    note          TEXT,
    _deleted      INTEGER,
    _versions     BLOB NOT NULL
) STRICT;
