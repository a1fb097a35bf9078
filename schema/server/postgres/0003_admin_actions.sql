-- Issue 13 §3 (D-2): every administrative change made at the district's desktop or on the server's
-- command line, with who made it and from which site (see schema/server/0007_admin_actions.sql).
CREATE TABLE IF NOT EXISTS admin_action (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    via_site TEXT NOT NULL,
    by_user_id TEXT NOT NULL,
    by_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
