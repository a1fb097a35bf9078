-- W-1 residents' register (人口信息) of a community workstation.
CREATE TABLE resident (
    id             TEXT PRIMARY KEY,
    org_unit_id    TEXT,
    name           TEXT,
    id_number      TEXT,
    sex            TEXT,
    birth_date     TEXT,
    phone          TEXT,
    building       TEXT,
    unit           TEXT,
    room           TEXT,
    household_head TEXT,
    -- JSON array of special-group codes (elderly_alone, low_income, disabled, …)
    special_groups TEXT,
    note           TEXT,
    _deleted       INTEGER,
    -- derived locally from name (not replicated): pinyin initials for search
    name_initials  TEXT,
    _versions      BLOB NOT NULL
) STRICT;
CREATE INDEX resident_org ON resident (org_unit_id, name_initials);
CREATE INDEX resident_id_number ON resident (id_number);
CREATE INDEX resident_address ON resident (org_unit_id, building, unit, room);
