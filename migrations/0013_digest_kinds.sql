-- The day's timeline entries the digests read are those that opened, escalated or raised an
-- alert; the resolved and updated ones (half of a churn day's 37,000) were indexed for nothing
-- on every run. Comparisons rather than IN: SQLite evaluates a partial index's condition on
-- every insert, and an IN list of three builds a temporary b-tree each time (see 0005).
DROP INDEX alert_events_run;
CREATE INDEX alert_events_run ON alert_events(run_date, kind, alert)
    WHERE run_date IS NOT NULL AND (kind = 'opened' OR kind = 'escalated' OR kind = 'raised');
