-- C-14 quarterly and annual assessments (社区矫正对象年(季)度考核表). Append-only: a corrected
-- assessment is a new one for the same period; the latest counts.
CREATE TABLE corr_assessment (
    id              TEXT PRIMARY KEY,
    org_unit_id     TEXT,
    case_id         TEXT,
    period          TEXT,
    assessed_on     TEXT,
    score_conduct   INTEGER,
    score_reporting INTEGER,
    score_study     INTEGER,
    score_labour    INTEGER,
    grade           TEXT,
    opinion         TEXT,
    assessor        TEXT,
    _deleted        INTEGER,
    _versions       BLOB NOT NULL
) STRICT;
CREATE INDEX corr_assessment_case ON corr_assessment (case_id, period);
