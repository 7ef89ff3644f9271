-- The alert-response report asks, for every alert opened in its range, when it was first
-- acknowledged. Through the timeline's by-alert index that meant every entry of every alert
-- (three a churn alert), each read from the table. People acknowledge; the daily job never
-- does, so this small index costs the job nothing.
CREATE INDEX alert_events_acknowledged ON alert_events(alert, at) WHERE kind = 'acknowledged';
