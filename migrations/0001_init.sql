-- muster schema, version 1.
-- Source-system identifiers (program_id, student_id, enrollment_id) are kept as unique text;
-- rows refer to each other by integer keys so that millions of attendance rows stay small.
-- Dates are 'YYYY-MM-DD' text, timestamps RFC 3339 UTC text: both sort correctly as text.

CREATE TABLE users (
    login               TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL
        CHECK (role IN ('admin', 'program_holder', 'worksite', 'site_coordinator')),
    email               TEXT,
    -- onboarding already on file elsewhere (import `onboarded=true` or `onboarding waive`)
    onboarding_waived   INTEGER NOT NULL DEFAULT 0,
    waiver_reason       TEXT,
    created_at          TEXT NOT NULL
);

-- Onboarding: role packages and their responsibilities ------------------------------------

CREATE TABLE role_packages (
    role            TEXT PRIMARY KEY
        CHECK (role IN ('program_holder', 'worksite', 'site_coordinator')),
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    may             TEXT NOT NULL,   -- JSON array of strings
    may_not         TEXT NOT NULL,   -- JSON array of strings
    requirements    TEXT NOT NULL,   -- JSON array of strings
    version         TEXT NOT NULL
);

CREATE TABLE responsibility_items (
    id          INTEGER PRIMARY KEY,
    role        TEXT NOT NULL REFERENCES role_packages(role),
    code        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    UNIQUE (role, code)
);

CREATE TABLE responsibility_acceptances (
    login       TEXT NOT NULL REFERENCES users(login),
    item        INTEGER NOT NULL REFERENCES responsibility_items(id),
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (login, item)
) WITHOUT ROWID;

CREATE TABLE partner_profiles (
    login       TEXT PRIMARY KEY REFERENCES users(login),
    role        TEXT NOT NULL
        CHECK (role IN ('program_holder', 'worksite', 'site_coordinator')),
    selected_at TEXT NOT NULL
);

-- Onboarding packets: documents, consent, signatures ---------------------------------------

CREATE TABLE onboarding_documents (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    title       TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('sign', 'acknowledge')),
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (code, sha256)
);

CREATE TABLE onboarding_packets (
    role            TEXT NOT NULL
        CHECK (role IN ('program_holder', 'worksite', 'site_coordinator')),
    document_code   TEXT NOT NULL,
    position        INTEGER NOT NULL,
    PRIMARY KEY (role, document_code)
) WITHOUT ROWID;

CREATE TABLE esign_consents (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL REFERENCES users(login),
    consent_version TEXT NOT NULL,
    consent_sha256  TEXT NOT NULL,
    consent_text    TEXT NOT NULL,
    at              TEXT NOT NULL,
    host            TEXT NOT NULL,
    client          TEXT NOT NULL,
    os_account      TEXT NOT NULL
);

CREATE TABLE signatures (
    id                  INTEGER PRIMARY KEY,
    login               TEXT NOT NULL REFERENCES users(login),
    document_code       TEXT NOT NULL,
    document_version    TEXT NOT NULL,
    document_sha256     TEXT NOT NULL,
    typed_name          TEXT NOT NULL,
    strokes             TEXT,           -- JSON of a signature drawn with the mouse, if any
    signed_at           TEXT NOT NULL,
    host                TEXT NOT NULL,
    client              TEXT NOT NULL,
    os_account          TEXT NOT NULL
);
CREATE INDEX signatures_login ON signatures(login, document_code);

CREATE TABLE acknowledgements (
    id                  INTEGER PRIMARY KEY,
    login               TEXT NOT NULL REFERENCES users(login),
    document_code       TEXT NOT NULL,
    document_version    TEXT NOT NULL,
    document_sha256     TEXT NOT NULL,
    at                  TEXT NOT NULL,
    host                TEXT NOT NULL,
    client              TEXT NOT NULL,
    os_account          TEXT NOT NULL
);
CREATE INDEX acknowledgements_login ON acknowledgements(login, document_code);

-- Programs, students, enrollments ----------------------------------------------------------

CREATE TABLE programs (
    id          INTEGER PRIMARY KEY,
    program_id  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    schedule    TEXT NOT NULL,      -- 'daily', 'Mon-Fri' or 'Mon,Wed,Fri'
    start_date  TEXT NOT NULL,
    end_date    TEXT
);

CREATE TABLE program_closures (
    program     INTEGER NOT NULL REFERENCES programs(id),
    date        TEXT NOT NULL,
    reason      TEXT,
    PRIMARY KEY (program, date)
) WITHOUT ROWID;

CREATE TABLE students (
    id          INTEGER PRIMARY KEY,
    student_id  TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    email       TEXT,
    phone       TEXT
);

CREATE TABLE enrollments (
    id              INTEGER PRIMARY KEY,
    enrollment_id   TEXT NOT NULL UNIQUE,
    student         INTEGER NOT NULL REFERENCES students(id),
    program         INTEGER NOT NULL REFERENCES programs(id),
    start_date      TEXT NOT NULL,
    end_date        TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'completed', 'withdrawn'))
);
CREATE INDEX enrollments_student ON enrollments(student);
CREATE INDEX enrollments_program ON enrollments(program);

-- Which partner sees which student. Partners see nothing else.
CREATE TABLE student_assignments (
    login       TEXT NOT NULL REFERENCES users(login),
    student     INTEGER NOT NULL REFERENCES students(id),
    PRIMARY KEY (login, student)
) WITHOUT ROWID;
CREATE INDEX student_assignments_student ON student_assignments(student, login);

-- Attendance, logins, progress ---------------------------------------------------------------

CREATE TABLE attendance (
    id              INTEGER PRIMARY KEY,
    student         INTEGER NOT NULL REFERENCES students(id),
    program         INTEGER NOT NULL REFERENCES programs(id),
    date            TEXT NOT NULL,
    -- Written as comparisons, not IN (…): SQLite builds a temporary b-tree for every IN list
    -- of three or more values on every insert, which costs a fifth of a bulk load.
    status          TEXT NOT NULL
        CHECK (status = 'present' OR status = 'absent' OR status = 'excused'),
    hours           REAL CHECK (hours IS NULL OR (hours >= 0 AND hours <= 24)),
    note            TEXT,
    logged_by       TEXT NOT NULL,
    logged_at       TEXT NOT NULL,
    verification    TEXT NOT NULL DEFAULT 'pending'
        CHECK (verification = 'pending' OR verification = 'verified' OR verification = 'rejected'),
    verified_by     TEXT,
    verified_at     TEXT,
    reason          TEXT,
    UNIQUE (student, program, date)
);
CREATE INDEX attendance_date ON attendance(date);
CREATE INDEX attendance_pending ON attendance(logged_at) WHERE verification = 'pending';

CREATE TABLE login_events (
    student     INTEGER NOT NULL REFERENCES students(id),
    at          TEXT NOT NULL,
    PRIMARY KEY (student, at)
) WITHOUT ROWID;

CREATE TABLE progress_events (
    id              INTEGER PRIMARY KEY,
    enrollment      INTEGER NOT NULL REFERENCES enrollments(id),
    kind            TEXT NOT NULL,      -- checkpoint, milestone, completion, placement …
    at              TEXT NOT NULL,
    detail          TEXT,
    recorded_by     TEXT NOT NULL
);
CREATE INDEX progress_events_enrollment ON progress_events(enrollment, at);

-- Alerts -------------------------------------------------------------------------------------

CREATE TABLE alert_thresholds (
    type        TEXT PRIMARY KEY CHECK (type IN ('missing_attendance', 'no_login')),
    warn        INTEGER NOT NULL,
    escalate    INTEGER NOT NULL,
    critical    INTEGER NOT NULL,
    CHECK (0 < warn AND warn <= escalate AND escalate <= critical)
);
INSERT INTO alert_thresholds (type, warn, escalate, critical) VALUES
    ('missing_attendance', 1, 2, 3),
    ('no_login', 3, 5, 7);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    type            TEXT NOT NULL CHECK (type IN ('missing_attendance', 'no_login')),
    severity        TEXT NOT NULL CHECK (severity IN ('warn', 'escalate', 'critical')),
    status          TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'snoozed', 'resolved')),
    student         INTEGER NOT NULL REFERENCES students(id),
    enrollment      INTEGER REFERENCES enrollments(id),     -- NULL for no_login
    program         INTEGER REFERENCES programs(id),
    count           INTEGER NOT NULL,
    first_missed    TEXT,
    escalated       INTEGER NOT NULL DEFAULT 0,
    assigned_to     TEXT REFERENCES users(login),
    snoozed_until   TEXT,
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     TEXT
);
-- One live alert per enrollment and type (per student for no_login).
CREATE UNIQUE INDEX alerts_one_live ON alerts(type, student, ifnull(enrollment, 0))
    WHERE status <> 'resolved';
CREATE INDEX alerts_inbox ON alerts(status, severity, opened_at);
CREATE INDEX alerts_student ON alerts(student);

CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY,
    alert       INTEGER NOT NULL REFERENCES alerts(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,      -- created, raised, lowered, ack, snooze, assign, note, resolved …
    run_date    TEXT,
    note        TEXT
);
CREATE INDEX alert_events_alert ON alert_events(alert, id);

-- Small named values kept by the program: the last processed alert day, the audit head …
CREATE TABLE job_state (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- Payroll ------------------------------------------------------------------------------------

CREATE TABLE payout_rate_configs (
    role            TEXT PRIMARY KEY
        CHECK (role IN ('program_holder', 'worksite', 'site_coordinator')),
    pay_model       TEXT NOT NULL CHECK (pay_model IN ('percent', 'flat_usd_month')),
    min_rate        REAL NOT NULL,
    max_rate        REAL NOT NULL,
    default_rate    REAL NOT NULL,
    CHECK (min_rate <= default_rate AND default_rate <= max_rate)
);
INSERT INTO payout_rate_configs (role, pay_model, min_rate, max_rate, default_rate) VALUES
    ('program_holder',   'percent',        18,  22,  20),
    ('worksite',         'percent',         8,  12,  10),
    ('site_coordinator', 'flat_usd_month', 400, 750, 500);

CREATE TABLE payroll_profiles (
    id                  INTEGER PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE REFERENCES users(login),
    role                TEXT NOT NULL,
    rate                REAL NOT NULL,
    method              TEXT NOT NULL CHECK (method IN ('stripe_connect', 'ach')),
    stripe_account      TEXT,
    routing_number      TEXT,
    account_last4       TEXT,
    w9_media_type       TEXT NOT NULL,
    w9_sha256           TEXT NOT NULL,
    w9                  BLOB NOT NULL,
    terms_accepted_at   TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_at        TEXT NOT NULL,
    decided_by          TEXT,
    decided_at          TEXT,
    reason              TEXT
);

-- Messages -----------------------------------------------------------------------------------

CREATE TABLE message_templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE message_campaigns (
    id              INTEGER PRIMARY KEY,
    template        INTEGER REFERENCES message_templates(id),
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    scheduled_for   TEXT,
    status          TEXT NOT NULL
        CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled'))
);

CREATE TABLE message_recipients (
    campaign    INTEGER NOT NULL REFERENCES message_campaigns(id),
    student     INTEGER NOT NULL REFERENCES students(id),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    status      TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    sent_at     TEXT,
    error       TEXT,
    PRIMARY KEY (campaign, student)
) WITHOUT ROWID;

-- Audit log: append-only, hash-chained. muster never updates or deletes these rows.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    acting_as   TEXT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    change      TEXT NOT NULL,      -- JSON {"before": …, "after": …}
    host        TEXT NOT NULL,
    client      TEXT NOT NULL,
    version     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
