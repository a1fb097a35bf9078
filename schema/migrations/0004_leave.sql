-- L-5 leave (外出) requests of corrections subjects, with the office's or the county's decision, a
-- provisional approval an officer may give offline (numbered, pending the county), and the return report.
CREATE TABLE corr_leave (
    id                TEXT PRIMARY KEY,
    org_unit_id       TEXT,
    case_id           TEXT,
    destination       TEXT,
    reason            TEXT,
    start_on          TEXT,
    end_on            TEXT,
    requested_on      TEXT,
    approval_level    TEXT,
    status            TEXT,
    provisional_no    TEXT,
    decided_by        TEXT,
    decided_on        TEXT,
    decision_note     TEXT,
    returned_on       TEXT,
    _deleted          INTEGER,
    _versions         BLOB NOT NULL
) STRICT;
CREATE INDEX corr_leave_case ON corr_leave (case_id, start_on);
