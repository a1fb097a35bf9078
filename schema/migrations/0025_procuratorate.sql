-- L-13 / C-24: the procuratorate's correction opinions and recommendations (纠正意见、检察建议) and the
-- office's written reply: whether it adopted them, and its reasons when it did not.
CREATE TABLE corr_recommendation (
    id              TEXT PRIMARY KEY,
    org_unit_id     TEXT,
    case_id         TEXT,
    kind            TEXT,
    procuratorate   TEXT,
    doc_no          TEXT,
    received_on     TEXT,
    content         TEXT,
    adopted         INTEGER,
    reply_on        TEXT,
    reply_text      TEXT,
    _deleted        INTEGER,
    _versions       BLOB NOT NULL
) STRICT;
CREATE INDEX corr_recommendation_org ON corr_recommendation (org_unit_id, received_on);

-- C-23: the office's work meetings (at least every half year) and the serious incidents reported upward
-- (at once: "紧急情况边处置边报告").
CREATE TABLE corr_meeting (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    kind         TEXT,
    held_on      TEXT,
    topic        TEXT,
    attendees    TEXT,
    minutes      TEXT,
    reported_on  TEXT,
    reported_to  TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_meeting_org ON corr_meeting (org_unit_id, held_on);
