-- W-5 / C-22 volunteers and building leaders (志愿者, 楼栋长) and their service hours (append-only).
CREATE TABLE volunteer (
    id                    TEXT PRIMARY KEY,
    org_unit_id           TEXT,
    name                  TEXT,
    id_number             TEXT,
    phone                 TEXT,
    skills                TEXT,
    building_leader       INTEGER,
    building              TEXT,
    corrections_volunteer INTEGER,
    note                  TEXT,
    _deleted              INTEGER,
    -- derived locally from name (not replicated): pinyin initials for search
    name_initials         TEXT,
    _versions             BLOB NOT NULL
) STRICT;
CREATE INDEX volunteer_org ON volunteer (org_unit_id, name_initials);

CREATE TABLE volunteer_service (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    volunteer_id TEXT,
    served_on    TEXT,
    minutes      INTEGER,
    activity     TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX volunteer_service_volunteer ON volunteer_service (volunteer_id, served_on);
