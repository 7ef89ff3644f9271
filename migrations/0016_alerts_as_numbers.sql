-- The alerts table's words, dates and times as numbers (docs/alerts-storage.md): on a churn
-- morning the job rewrites tens of thousands of alerts, and their text was most of the pages it
-- wrote. What anyone reads is the same text as before; `store::stored` converts both ways.
--
--   type              missing_attendance 1, no_login 2
--   severity          warn 1, escalate 2, critical 3: its own rank (severity_rank goes)
--   status            open 1, acknowledged 2, snoozed 3, resolved 4
--   first_missed, as_of, streak_start                 days since 1970-01-01
--   opened_at, updated_at, resolved_at, snoozed_until seconds since 1970-01-01T00:00:00Z
--
-- and in their timeline `at` as seconds and `run_date` as a day number (its kinds stay words:
-- files from early versions hold kinds no list here would know).
--
-- Copied here; `schema_edit::alerts_as_numbers` checks every value reads back as it was before
-- it replaces the old tables. Run with foreign keys off, as SQLite's procedure for changing a
-- table asks; the hook checks the replaced tables' keys before it commits.
CREATE TABLE alerts_as_numbers (
    id                INTEGER PRIMARY KEY,
    type              INTEGER NOT NULL CHECK (type BETWEEN 1 AND 2),
    severity          INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 3),
    status            INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
    student           INTEGER NOT NULL REFERENCES students(id),
    enrollment        INTEGER REFERENCES enrollments(id),     -- NULL for no_login
    program           INTEGER REFERENCES programs(id),
    count             INTEGER NOT NULL,
    first_missed      INTEGER,
    escalated         INTEGER NOT NULL DEFAULT 0,
    assigned_to       TEXT REFERENCES users(login),
    snoozed_until     INTEGER,
    opened_at         INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    resolved_at       INTEGER,
    resolved_by       TEXT,
    as_of             INTEGER,
    streak_start      INTEGER,
    resolved_severity INTEGER CHECK (resolved_severity BETWEEN 1 AND 3)
);

INSERT INTO alerts_as_numbers
SELECT id,
       CASE type WHEN 'missing_attendance' THEN 1 WHEN 'no_login' THEN 2 END,
       CASE severity WHEN 'warn' THEN 1 WHEN 'escalate' THEN 2 WHEN 'critical' THEN 3 END,
       CASE status WHEN 'open' THEN 1 WHEN 'acknowledged' THEN 2 WHEN 'snoozed' THEN 3 WHEN 'resolved' THEN 4 END,
       student, enrollment, program, count,
       julianday(first_missed) - 2440587.5,
       escalated, assigned_to,
       unixepoch(snoozed_until), unixepoch(opened_at), unixepoch(updated_at), unixepoch(resolved_at),
       resolved_by,
       julianday(as_of) - 2440587.5,
       julianday(streak_start) - 2440587.5,
       CASE resolved_severity WHEN 'warn' THEN 1 WHEN 'escalate' THEN 2 WHEN 'critical' THEN 3 END
  FROM alerts
 ORDER BY id;

CREATE TABLE alert_events_as_numbers (
    id          INTEGER PRIMARY KEY,
    alert       INTEGER NOT NULL REFERENCES alerts(id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,      -- opened, escalated, raised, lowered, updated, resolved, acknowledged …
    run_date    INTEGER,
    note        TEXT
);

INSERT INTO alert_events_as_numbers
SELECT id, alert, unixepoch(at), actor, kind, julianday(run_date) - 2440587.5, note
  FROM alert_events
 ORDER BY id;
