-- D-3 and the field histories name the PC a version came from: the district's sites (officers'
-- laptops, workstations, the district's PCs, the sync server) by name. Written only by the server's
-- admin; flows down to every site of the district (site names are not confidential).
CREATE TABLE site_directory (
    id          TEXT PRIMARY KEY,
    district_id TEXT,
    org_unit_id TEXT,
    name        TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
