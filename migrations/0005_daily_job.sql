-- The daily job at churn: every alert it opens, raises or resolves costs index writes, so the
-- alerts table keeps only the indexes something reads.
--
-- The inbox filtered by a live status walks alerts_live_inbox (the query names the live
-- condition); a list of resolved or all alerts walks alerts_all_inbox, where resolved alerts
-- are nearly every entry. alerts_status_inbox served neither better and was rewritten by every
-- open, raise and resolve.
DROP INDEX alerts_status_inbox;

-- Every alert the job opens went into alerts_streak, a wide index (type, dates) led by the
-- student, so each day's new alerts dirtied most of its pages. A student's alerts are found
-- through a narrow index instead, a quarter of the size; the streak lookup, which only ever
-- asks for alerts a person resolved, keeps an index of just those (and also answers which
-- students have one, so alerts_resolved_by_people goes).
DROP INDEX alerts_streak;
DROP INDEX alerts_resolved_by_people;
CREATE INDEX alerts_student ON alerts(student);
CREATE INDEX alerts_streak ON alerts(student, type, ifnull(enrollment, 0), streak_start)
    WHERE resolved_severity IS NOT NULL;

-- The alerts table's CHECKs on severity and status become comparisons (as attendance's are):
-- SQLite builds a temporary b-tree for an IN list of three or more values on every insert and
-- update, a fifth of the daily job's work. The migration's hook edits the table's definition.
