-- Issue 9: every content refusal is a quarantined operation with a machine code and reasons in English
-- (`reason`) and Chinese; the district releases (merges) or rejects it. `published_status` is the status
-- last written to the replicated sync_quarantine row (NULL: not yet), so a crash between the two
-- commits is repaired at the next push.
ALTER TABLE quarantine ADD COLUMN code TEXT NOT NULL DEFAULT 'future_clock';
ALTER TABLE quarantine ADD COLUMN reason_zh TEXT NOT NULL DEFAULT '';
ALTER TABLE quarantine ADD COLUMN status TEXT NOT NULL DEFAULT 'held';
ALTER TABLE quarantine ADD COLUMN decided_by TEXT;
ALTER TABLE quarantine ADD COLUMN decided_at_ms INTEGER;
ALTER TABLE quarantine ADD COLUMN decision_note TEXT;
ALTER TABLE quarantine ADD COLUMN published_status TEXT;
UPDATE quarantine SET code = 'late_after_transfer' WHERE reason LIKE 'late_after_transfer%';
