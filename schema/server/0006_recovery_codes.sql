-- Issue 11 §1: each site's recovery code. The desktop wraps its store's key for it (and forgets it);
-- the district reads it out when a laptop's users cannot sign in (a forgotten password, a new account
-- the laptop has not heard of). Every reading is recorded.
ALTER TABLE site ADD COLUMN recovery_code TEXT;
ALTER TABLE site ADD COLUMN recovery_code_at_ms INTEGER;
CREATE TABLE IF NOT EXISTS recovery_code_read (
    site_id TEXT NOT NULL,
    read_by TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
