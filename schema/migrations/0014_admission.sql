-- W-4 community-work admission (社区工作准入): a department's written application, the district's
-- decision, and the funding that comes with approved work (费随事转). Money in integer fen.
CREATE TABLE admission_request (
    id                   TEXT PRIMARY KEY,
    org_unit_id          TEXT,
    department           TEXT,
    work_item            TEXT,
    description          TEXT,
    applied_on           TEXT,
    funding_offered_fen  INTEGER,
    status               TEXT,
    decided_by           TEXT,
    decided_on           TEXT,
    decision_reasons     TEXT,
    funding_approved_fen INTEGER,
    _deleted             INTEGER,
    -- derived locally from department (not replicated): pinyin initials for search
    name_initials        TEXT,
    _versions            BLOB NOT NULL
) STRICT;
CREATE INDEX admission_request_org ON admission_request (org_unit_id, status, applied_on);
