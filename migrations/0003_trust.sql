-- Trust: the first day the alert job processed (re-evaluation speaks only for processed days),
-- and who really logged an attendance record (four eyes look at the person, not only at --as).

INSERT INTO job_state (key, value)
SELECT 'alerts_first_processed', min(entity_id) FROM audit_log WHERE action = 'alerts.run'
HAVING min(entity_id) IS NOT NULL
ON CONFLICT (key) DO NOTHING;

ALTER TABLE attendance ADD COLUMN logged_by_person TEXT;
