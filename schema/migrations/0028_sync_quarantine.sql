-- Issue 9: an operation the sync server acknowledged but held in quarantine instead of merging it
-- (a value the rules refuse, a row outside the site's scope, a rewrite of an append-only record, a
-- clock out of drift…). Row id = "<site id>:<site_seq>". Written only by the server; replicated to the
-- sites of the sending site's own org unit (which mark the record "未被区里接受") and to the district
-- (which releases or rejects it). The operation's value is not copied here unless the district may
-- read its table (L-7 location data never leaves the judicial office).
CREATE TABLE sync_quarantine (
    id            TEXT PRIMARY KEY,
    org_unit_id   TEXT,
    site_id       TEXT,
    site_seq      INTEGER,
    tbl           TEXT,
    target_id     TEXT,
    field         TEXT,
    value_preview TEXT,
    code          TEXT,
    reason        TEXT,
    reason_zh     TEXT,
    received_at   TEXT,
    status        TEXT,
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT,
    _deleted      INTEGER,
    _versions     BLOB NOT NULL
) STRICT;
CREATE INDEX sync_quarantine_target ON sync_quarantine (tbl, target_id);
