-- C-7 personal data: the subject's address of residence (居住地).
ALTER TABLE corr_case ADD COLUMN address TEXT;
