-- W-6 the community's own funds: a yearly ledger of spending per fund (the yearly allotments are local
-- rules in schema/rules/community.json, not rows). Entries are append-only; a wrong entry is removed by
-- the reversible _deleted flag and entered again. Money in integer fen.
CREATE TABLE community_fund_entry (
    id           TEXT PRIMARY KEY,
    org_unit_id  TEXT,
    year         INTEGER,
    fund         TEXT,
    amount_fen   INTEGER,
    spent_on     TEXT,
    purpose      TEXT,
    recorded_by  TEXT,
    _deleted     INTEGER,
    _versions    BLOB NOT NULL
) STRICT;
CREATE INDEX community_fund_entry_org ON community_fund_entry (org_unit_id, year, fund, spent_on);
