-- On the hub: the changes from devices it refused, with the reason, so that a change sent
-- again (its verdict lost on the way back) gets the same answer rather than "already applied".
CREATE TABLE device_rejections (
    device      TEXT NOT NULL REFERENCES devices(id),
    seq         INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (device, seq)
) WITHOUT ROWID;
