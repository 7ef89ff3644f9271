-- The alert engine: what each alert was computed as of, and the streak it belongs to.

-- The last day the rules evaluated this alert, so the next session day can carry its count on.
ALTER TABLE alerts ADD COLUMN as_of TEXT;
-- The streak an alert belongs to: its first missed day (missing_attendance) or the day the
-- no-login count runs from. A manually resolved alert is not reopened for the same streak.
ALTER TABLE alerts ADD COLUMN streak_start TEXT;
-- The severity an alert had when a person resolved it.
ALTER TABLE alerts ADD COLUMN resolved_severity TEXT;

CREATE INDEX alerts_streak ON alerts(type, student, ifnull(enrollment, 0), streak_start);

-- Logins by time, so the daily job finds who logged in recently without reading every login.
CREATE INDEX login_events_at ON login_events(at);

-- Severity as a number, so the inbox (most severe first, then oldest) pages through an index.
ALTER TABLE alerts ADD COLUMN severity_rank INTEGER
    GENERATED ALWAYS AS (CASE severity WHEN 'critical' THEN 3 WHEN 'escalate' THEN 2 ELSE 1 END) VIRTUAL;
CREATE INDEX alerts_live_inbox ON alerts(severity_rank DESC, opened_at, id) WHERE status <> 'resolved';
-- The inbox pages through alerts_live_inbox; the first schema's inbox index only costs writes.
DROP INDEX alerts_inbox;
-- The same order over every alert, and within one status, for the inbox's other views.
CREATE INDEX alerts_all_inbox ON alerts(severity_rank DESC, opened_at, id);
CREATE INDEX alerts_status_inbox ON alerts(status, severity_rank DESC, opened_at, id);
