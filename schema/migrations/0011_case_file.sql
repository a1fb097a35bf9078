-- C-7 / C-8 / C-9 / C-22 / L-4: the people on a corrections case file (family members and social
-- relations, the supervision team, volunteers), the correction plan with the supervision agreement, and
-- C-3..C-5 / L-1 / L-9 / L-10 / C-17 / C-18 / C-20: the legal documents received and issued for the case.
-- All mutable (LWW per field, field history kept); a removed entry is a reversible `_deleted` flag.
CREATE TABLE corr_person (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    case_id      TEXT,
    role         TEXT,
    team_role    TEXT,
    name         TEXT,
    sex          TEXT,
    relation     TEXT,
    phone        TEXT,
    work_unit    TEXT,
    note         TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_person_case ON corr_person (case_id);

-- One plan per case: the row id is the case id, so two laptops writing the plan offline edit the same
-- row field by field instead of creating two plans.
CREATE TABLE corr_plan (
    id                   TEXT PRIMARY KEY,
    org_unit_id          TEXT,
    case_id              TEXT,
    plan_text            TEXT,
    made_on              TEXT,
    made_with_police     INTEGER,
    agreement_signed_on  TEXT,
    guarantor_person_id  TEXT,
    guarantor_kind       TEXT,
    _deleted             INTEGER,
    _versions            BLOB NOT NULL
) STRICT;

CREATE TABLE corr_document (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    case_id      TEXT,
    doc_type     TEXT,
    doc_no       TEXT,
    counterpart  TEXT,
    dated_on     TEXT,
    time_of_day  TEXT,
    note         TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_document_case ON corr_document (case_id, dated_on);
