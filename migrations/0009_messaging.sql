-- Messaging: templates, outreach, campaigns, digests. The tables 0001 sketched were never used by
-- any muster; they are replaced by ones that say who owns a template, what a campaign was sent to
-- and where each recipient's message stands.
DROP TABLE message_recipients;
DROP TABLE message_campaigns;
DROP TABLE message_templates;

-- `owner` NULL: an organisation template (admins keep them); else a partner's own.
CREATE TABLE message_templates (
    id          INTEGER PRIMARY KEY,
    owner       TEXT REFERENCES users(login),
    name        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX message_templates_name ON message_templates(ifnull(owner, ''), name);

-- One sending: an outreach message (one student), a campaign (many) or a digest (partners).
-- Subject and body keep their placeholders; each recipient's copy is rendered when it is sent.
CREATE TABLE message_campaigns (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('outreach', 'campaign', 'digest')),
    template    TEXT,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    audience    TEXT NOT NULL,
    alert       INTEGER REFERENCES alerts(id),
    created_by  TEXT NOT NULL REFERENCES users(login),
    created_at  TEXT NOT NULL,
    send_at     TEXT NOT NULL,
    stopped_by  TEXT,
    stopped_at  TEXT
);

-- queued → sending → sent | failed; queued → skipped | cancelled; sending found after a crash →
-- unknown (shown, never resent). A transient failure goes back to queued with a later attempt.
CREATE TABLE message_recipients (
    id              INTEGER PRIMARY KEY,
    campaign        INTEGER NOT NULL REFERENCES message_campaigns(id),
    student         INTEGER REFERENCES students(id),
    login           TEXT REFERENCES users(login),
    address         TEXT,
    status          TEXT NOT NULL CHECK (status IN
                        ('queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    reason          TEXT,
    message_id      TEXT,
    updated_at      TEXT NOT NULL,
    CHECK ((student IS NULL) <> (login IS NULL))
);
CREATE UNIQUE INDEX message_recipients_one ON message_recipients(campaign, ifnull(student, 0), ifnull(login, ''));
CREATE INDEX message_recipients_waiting ON message_recipients(status, campaign) WHERE status IN ('queued', 'sending');
CREATE INDEX message_recipients_student ON message_recipients(student) WHERE student IS NOT NULL;

-- A student who asked not to be messaged.
ALTER TABLE students ADD COLUMN opted_out_at TEXT;
-- Whether the person gets the daily digest of their alerts.
ALTER TABLE users ADD COLUMN digest INTEGER NOT NULL DEFAULT 1;
-- The days a person's digest went out (or was made), so a second run of the job sends none.
CREATE TABLE digests (
    login       TEXT NOT NULL REFERENCES users(login),
    day         TEXT NOT NULL,
    campaign    INTEGER NOT NULL REFERENCES message_campaigns(id),
    PRIMARY KEY (login, day)
) WITHOUT ROWID;
