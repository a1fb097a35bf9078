-- Issue 12 §4: cheaper statistics for master_row. The server analyses it itself once pushes outgrow
-- its statistics (sync-server/src/master/postgres/statistics.rs), up to a few times a minute while a
-- district's first data arrive. Its statements find rows by key (tbl, id), by owner, and by the case
-- they belong to: the planner needs the table's size and a rough spread of tbl and owner, not 30,000
-- sampled rows (default_statistics_target 100 × 300). With a target of 10 an ANALYZE samples 3,000;
-- under the 200-office load it took 0.1 s instead of 0.46 s. `vals` and `history` are never compared
-- as a whole, nor `versions` (the JSON histories before 0002): no statistics (expressions over
-- `vals` have their own, through their index).
ALTER TABLE master_row
    ALTER COLUMN tbl SET STATISTICS 10,
    ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN owner SET STATISTICS 10,
    ALTER COLUMN vals SET STATISTICS 0,
    ALTER COLUMN versions SET STATISTICS 0,
    ALTER COLUMN history SET STATISTICS 0;
ALTER INDEX master_row_case ALTER COLUMN 2 SET STATISTICS 10;
