-- The event log: one row per event, the JSON of the event as served by the API.
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY,
    type     TEXT    NOT NULL,
    at       INTEGER NOT NULL, -- unix seconds, for range queries
    alert_id INTEGER NOT NULL,
    body     TEXT    NOT NULL
);
CREATE INDEX events_by_alert ON events (alert_id);

-- Each alert as it stood after its latest event, written in the same transaction as the event.
CREATE TABLE alerts (
    id        INTEGER PRIMARY KEY,
    region_id INTEGER NOT NULL,
    active    INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    body      TEXT    NOT NULL
);
CREATE INDEX alerts_active ON alerts (id) WHERE active;

CREATE TABLE idempotency (
    owner       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    alert_id    INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    regions     TEXT NOT NULL, -- JSON array of region ids
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
