-- Issue 13 §3 (D-2): every administrative change made at the district's desktop or on the server's
-- command line, with who made it and from which site. The change itself is also in the audit log
-- when it writes replicated rows (the org tree, users); this table also keeps what the log does not
-- hold (sites and enrolment codes). Never a password or a code.
CREATE TABLE IF NOT EXISTS admin_action (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    via_site TEXT NOT NULL,
    by_user_id TEXT NOT NULL,
    by_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
