-- L-6 change of the place of execution (执行地变更) as a two-phase handoff between two judicial offices:
-- the sending office applies, the county (district bureau) decides and hands the case file to the
-- receiving office (the case is then "in transfer" at both), the receiving office confirms that the
-- subject reported, and the district completes the move of every record of the case.
CREATE TABLE corr_transfer (
    id                   TEXT PRIMARY KEY,
    org_unit_id          TEXT,
    case_id              TEXT,
    from_org_unit_id     TEXT,
    from_org_unit_name   TEXT,
    to_org_unit_id       TEXT,
    to_org_unit_name     TEXT,
    destination          TEXT,
    reason               TEXT,
    applied_on           TEXT,
    move_on              TEXT,
    status               TEXT,
    decided_on           TEXT,
    decided_by           TEXT,
    decision_note        TEXT,
    file_sent_on         TEXT,
    completed_on         TEXT,
    _deleted             INTEGER,
    _versions            BLOB NOT NULL
) STRICT;
CREATE INDEX corr_transfer_case ON corr_transfer (case_id);
CREATE INDEX corr_transfer_to ON corr_transfer (to_org_unit_id, status);

-- The receiving office's confirmation, in its own scope (row id = the transfer's id).
CREATE TABLE corr_transfer_receipt (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    case_id       TEXT,
    reported_on   TEXT,
    confirmed_by  TEXT,
    confirmed_on  TEXT,
    _deleted      INTEGER,
    _versions     BLOB NOT NULL
) STRICT;
