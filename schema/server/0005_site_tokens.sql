-- Issue 11 §3: sites the district revokes, and tokens that rotate.
-- A rotation issues a next token beside the current one; the first request made with it promotes it
-- (the current one becomes `prev_token_hash`, kept only to check bundles signed before the rotation),
-- so a reply lost on the way never locks a site out.
ALTER TABLE site ADD COLUMN next_token_hash TEXT;
ALTER TABLE site ADD COLUMN prev_token_hash TEXT;
ALTER TABLE site ADD COLUMN token_issued_at_ms INTEGER;
ALTER TABLE site ADD COLUMN revoked_at_ms INTEGER;
ALTER TABLE site ADD COLUMN revoked_by TEXT;
ALTER TABLE site ADD COLUMN revoked_reason TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS site_next_token ON site (next_token_hash);
