-- One person index across domains (issue 4) and W-2 whistle-blower protection.
-- W-2: the petitioner's ID number (optional, GB 11643-checked when given) lets an appeal join the person's
-- other records; a whistle-blower appeal names the department complained about, whose routing slip masks
-- the petitioner's identity.
ALTER TABLE appeal ADD COLUMN petitioner_id_number TEXT;
ALTER TABLE appeal ADD COLUMN whistleblower INTEGER;
ALTER TABLE appeal ADD COLUMN complained_department TEXT;

-- The person index looks every domain up by the normalised 18-character ID number; residents and
-- corrections cases already have such an index (0001, 0006).
CREATE INDEX appeal_petitioner_id_number ON appeal (petitioner_id_number);
CREATE INDEX mediation_party_id_number ON mediation_party (id_number);
CREATE INDEX volunteer_id_number ON volunteer (id_number);
