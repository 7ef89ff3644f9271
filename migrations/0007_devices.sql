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
