-- W-3 / L-16 people's mediation (人民调解) of a community: one case per dispute, its parties and its
-- sessions. Mediation is free (人民调解法 第四条): there is deliberately no fee column.
CREATE TABLE mediation_case (
    id                            TEXT PRIMARY KEY,
    org_unit_id                   TEXT,
    dispute_type                  TEXT,
    summary                       TEXT,
    accepted_on                   TEXT,
    mediator                      TEXT,
    outcome                       TEXT,
    concluded_on                  TEXT,
    agreement_text                TEXT,
    agreement_on                  TEXT,
    court_confirmation_applied_on TEXT,
    follow_up_on                  TEXT,
    follow_up_result              TEXT,
    escalation_risk               INTEGER,
    risk_flagged_on               TEXT,
    police_reported_on            TEXT,
    _deleted                      INTEGER,
    _versions                     BLOB NOT NULL
) STRICT;
CREATE INDEX mediation_case_org ON mediation_case (org_unit_id, accepted_on);

-- The parties (at least two per case); ID numbers optional, GB 11643-checked when given.
CREATE TABLE mediation_party (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    case_id       TEXT,
    seq           INTEGER,
    name          TEXT,
    id_number     TEXT,
    phone         TEXT,
    address       TEXT,
    _deleted      INTEGER,
    -- derived locally from name (not replicated): pinyin initials for search
    name_initials TEXT,
    _versions     BLOB NOT NULL
) STRICT;
CREATE INDEX mediation_party_case ON mediation_party (case_id, seq);

-- Sessions are append-only records of the mediation (人民调解法 第二十七条: 记录调解情况).
CREATE TABLE mediation_session (
    id          TEXT PRIMARY KEY,
    org_unit_id TEXT,
    case_id     TEXT,
    held_on     TEXT,
    place       TEXT,
    attendees   TEXT,
    summary     TEXT,
    recorded_by TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
CREATE INDEX mediation_session_case ON mediation_session (case_id, held_on);
