-- Digests: what the daily job did on a day is read from the timeline entries it wrote for that
-- day. Without this index that meant every entry of every live alert of a partner's students,
-- once per partner: four seconds of a daily run at 100,000 students.
CREATE INDEX alert_events_run ON alert_events(run_date, kind, alert) WHERE run_date IS NOT NULL;
