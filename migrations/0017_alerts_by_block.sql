-- A student's alerts were found through an index on `student` alone. Each alert the daily job
-- opens lands at its student's place in that index, so at churn a day's 11,700 new alerts
-- touched nearly every one of its pages: with a year of alerts (3.5 million) that was 7,700 of
-- the day's 13,800 written pages, and it grew with every year kept.
--
-- This index files each alert under its block of 131,072 alert ids first (ids only grow), then
-- its student: a day's new entries land among the newest block's few hundred pages. Asking for
-- a student's alerts of any status is one seek per block that holds alerts (`ALERT_BLOCKS` in
-- `src/store/mod.rs` lists them); a student's live alerts come from `alerts_one_live`.
DROP INDEX alerts_student;
CREATE INDEX alerts_student_block ON alerts(id >> 17, student);
