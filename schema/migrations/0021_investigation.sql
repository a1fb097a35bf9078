-- L-2 pre-decision community assessment (调查评估): the request from a court, procuratorate, police or
-- prison, the investigation's written opinion, and the deadline (rule table L-2.*).
CREATE TABLE corr_investigation (
    id               TEXT PRIMARY KEY,
    org_unit_id      TEXT,
    name             TEXT,
    name_initials    TEXT,
    id_number        TEXT,
    organ            TEXT,
    organ_name       TEXT,
    proposed_kind    TEXT,
    offence          TEXT,
    residence        TEXT,
    received_on      TEXT,
    fast_track       INTEGER,
    status           TEXT,
    opinion          TEXT,
    opinion_on       TEXT,
    opinion_summary  TEXT,
    _deleted         INTEGER,
    _versions        BLOB NOT NULL
) STRICT;
CREATE INDEX corr_investigation_org ON corr_investigation (org_unit_id, status, received_on);
