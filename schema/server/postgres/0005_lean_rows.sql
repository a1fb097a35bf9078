-- Issue 12 §4: leaner master rows under load. The index that finds a case's child rows (transfers:
-- L-6 late writes, scope moves) now holds only rows that name a case: every other row (the cases
-- themselves, the people, the org tree) made an entry under NULL, one index insertion in three of
-- a new row. Queries on `vals ->> 'case_id' = $1` imply the predicate and keep using it.
-- (Rows written from this release on also leave fields without a value out of `vals`; a missing
-- key reads as NULL, as before.)
DROP INDEX master_row_case;
CREATE INDEX master_row_case ON master_row (tbl, (vals ->> 'case_id'))
    WHERE (vals ->> 'case_id') IS NOT NULL;
