-- The officer responsible for a case (责任矫正专干): the daily digest can show one officer's own cases.
ALTER TABLE corr_case ADD COLUMN officer_id TEXT;
