-- Scale: the daily job reads one day's attendance marks and every active enrollment. Covering
-- indexes let it read both from the index alone instead of visiting one table row per entry
-- (on a year of a 100,000-student program, a fifth of a daily run).
DROP INDEX attendance_date;
CREATE INDEX attendance_day ON attendance(date, student, program, status, verification);
CREATE INDEX enrollments_active ON enrollments(student, start_date, id, program, end_date)
    WHERE status = 'active';
-- One index fewer for every alert the job writes: the streak index, led by the student, also
-- finds a student's alerts.
DROP INDEX alerts_student;
DROP INDEX alerts_streak;
CREATE INDEX alerts_streak ON alerts(student, type, ifnull(enrollment, 0), streak_start);
-- The few alerts a person resolved, so the job looks up past resolutions only for their students.
CREATE INDEX alerts_resolved_by_people ON alerts(type, student) WHERE resolved_severity IS NOT NULL;
