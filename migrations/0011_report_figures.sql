-- Reports: a report over a period reads every attendance record of its days. With the hours in
-- the by-date index it reads them from the index alone instead of visiting one table row per
-- record (on a year of a 100,000-student program, most of an outcome report's second).
DROP INDEX attendance_day;
CREATE INDEX attendance_day ON attendance(date, student, program, status, verification, hours);
