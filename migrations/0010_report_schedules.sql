-- Scheduled reports: an admin's report made weekly or monthly by the daemon and e-mailed as a PDF
-- (or written to a folder where no mail is set up).
CREATE TABLE report_schedules (
    id          INTEGER PRIMARY KEY,
    report      TEXT NOT NULL,
    every       TEXT NOT NULL CHECK (every IN ('weekly', 'monthly')),
    program     TEXT,
    partner     TEXT,
    -- addresses, comma-separated
    recipients  TEXT NOT NULL,
    -- the report is made as this user sees the data on the day it runs
    owner       TEXT NOT NULL REFERENCES users(login),
    -- the organisation's date of the next run
    next_due    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);

-- One run per schedule and due date. `sending` is committed before the SMTP transaction; one
-- found `sending` when a sender starts again becomes `unknown`, never sent twice.
CREATE TABLE report_runs (
    id              INTEGER PRIMARY KEY,
    schedule        INTEGER NOT NULL REFERENCES report_schedules(id),
    due             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('sending', 'retry', 'sent', 'written', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    detail          TEXT,
    at              TEXT NOT NULL,
    UNIQUE (schedule, due)
);
