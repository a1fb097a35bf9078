-- The district's own versions of the deadline rule table and the holiday calendar (L-0: the calendar is
-- data the district updates each year; issue 3: the rule table is editable by the district). One row per
-- document, scoped to the district's org unit and replicated to every site of the district. A row marked
-- deleted means "back to the table shipped with this build".
CREATE TABLE local_setting (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    json         TEXT,
    note         TEXT,
    edited_by    TEXT,
    edited_at    TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
