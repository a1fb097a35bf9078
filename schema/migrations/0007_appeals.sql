-- W-2 residents' appeals and complaints (民情通 hotline, 12345, counter, visits, letters) with L-14 / L-15
-- clocks, routing to departments with a lead department, result, feedback and the follow-up call.
CREATE TABLE appeal (
    id                TEXT PRIMARY KEY,
    org_unit_id       TEXT,
    channel           TEXT,
    class             TEXT,
    category          TEXT,
    petitioner_name   TEXT,
    petitioner_phone  TEXT,
    subject           TEXT,
    content           TEXT,
    received_on       TEXT,
    departments       TEXT,
    lead_department   TEXT,
    status            TEXT,
    extended          INTEGER,
    result            TEXT,
    resolved_on       TEXT,
    satisfaction      TEXT,
    followed_up_on    TEXT,
    reminders         INTEGER,
    _deleted          INTEGER,
    name_initials     TEXT,
    _versions         BLOB NOT NULL
) STRICT;
CREATE INDEX appeal_org ON appeal (org_unit_id, status, received_on);
