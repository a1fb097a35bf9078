-- Issue 11 §4: what happens to an account: failed logins (which lock it after five in a row, offline
-- too), password changes and resets. Append-only, replicated to the PCs of the user's unit and to the
-- district, which audits them.
CREATE TABLE auth_event (
    id          TEXT PRIMARY KEY,
    org_unit_id TEXT,
    user_id     TEXT,
    kind        TEXT,
    at          TEXT,
    actor_id    TEXT,
    site_id     TEXT,
    _deleted    INTEGER,
    _versions   BLOB NOT NULL
) STRICT;
CREATE INDEX auth_event_user ON auth_event (user_id, at);
