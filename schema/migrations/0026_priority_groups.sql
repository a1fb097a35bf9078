-- C-2 priority groups the office marks by hand (ill or disabled, first-time, negligent offence); minors,
-- women and the elderly follow from the ID number and dates.
ALTER TABLE corr_case ADD COLUMN priority_groups TEXT;
