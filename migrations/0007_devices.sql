-- Site laptops that keep a replica of this database (the hub's side of offline sync). A device
-- is registered by the person whose SSH account cloned it; an admin may allow further people on
-- it or revoke it. `last_applied` is the last outbox sequence applied from it.
CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    ssh_login       TEXT NOT NULL REFERENCES users(login),
    -- Further logins allowed on the device, separated by spaces.
    allowed         TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    last_seen       TEXT,
    revoked_at      TEXT,
    last_applied    INTEGER NOT NULL DEFAULT 0
);

-- On a replica: the changes made here, in order, until the hub has applied or rejected each.
-- A sequence number is never reused (AUTOINCREMENT), so the hub's last applied number per device
-- tells it what it has already seen.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    author      TEXT NOT NULL,
    command     TEXT NOT NULL,      -- the Command as JSON
    local_time  TEXT NOT NULL,      -- the laptop's clock when it was given, for people to read
    state       TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state = 'waiting' OR state = 'applied' OR state = 'rejected'),
    -- For a decision: the version of each record decided on as the person saw it here, JSON
    -- [[kind, id, version]]; the hub refuses the decision if the record changed since.
    seen        TEXT,
    reason      TEXT,               -- why the hub rejected it
    synced_at   TEXT
);
