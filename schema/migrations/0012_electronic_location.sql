-- L-7 electronic location (社区矫正法 Art29). The periods (ground, the county head's approval, dates,
-- renewals, early ends) replicate like the rest of the case. The location events (alarms and checks from
-- the location platform) are the location data itself: they stay with the judicial office's own sites and
-- never reach the district or anyone else (tables::Domain::CorrectionsOffice).
CREATE TABLE corr_location_period (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    case_id      TEXT,
    ground       TEXT,
    approved_by  TEXT,
    approved_on  TEXT,
    start_on     TEXT,
    end_on       TEXT,
    renewal_of   TEXT,
    ended_on     TEXT,
    end_reason   TEXT,
    note         TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_location_period_case ON corr_location_period (case_id, start_on);

CREATE TABLE corr_location_event (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    case_id      TEXT,
    period_id    TEXT,
    kind         TEXT,
    occurred_at  TEXT,
    place        TEXT,
    action       TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX corr_location_event_case ON corr_location_event (case_id, occurred_at);
