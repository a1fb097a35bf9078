-- L-1 / C-5 intake dates and the L-3 supervision level on the corrections case.
ALTER TABLE corr_case ADD COLUMN judgment_effective_on TEXT;
ALTER TABLE corr_case ADD COLUMN reported_on TEXT;
ALTER TABLE corr_case ADD COLUMN supervision_level TEXT;
