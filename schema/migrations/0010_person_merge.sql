-- W-1 / one person index: a resident registered twice (two clerks offline) is merged into one by pointing
-- the duplicate at the kept record. Reversible: clearing merged_into undoes it; nothing is deleted.
ALTER TABLE resident ADD COLUMN merged_into TEXT;
