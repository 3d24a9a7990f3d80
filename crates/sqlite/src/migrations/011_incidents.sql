-- The log carries incidents and shelter statuses beside alerts: an event's alert_id is now
-- empty for those (SQLite changes a column's constraint only by copying the table).
CREATE TABLE events_v11 (
    seq      INTEGER PRIMARY KEY,
    type     TEXT    NOT NULL,
    at       INTEGER NOT NULL, -- unix seconds, for range queries
    alert_id INTEGER,
    body     TEXT    NOT NULL
);
INSERT INTO events_v11 (seq, type, at, alert_id, body) SELECT seq, type, at, alert_id, body FROM events;
DROP TABLE events;
ALTER TABLE events_v11 RENAME TO events;
CREATE INDEX events_by_alert ON events (alert_id);
CREATE INDEX events_by_type_at ON events (type, at);

-- Each incident as it stood after its latest event, written in the same transaction.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    region_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    alert_id    INTEGER,
    status      TEXT    NOT NULL,
    public      INTEGER NOT NULL,
    reported_at INTEGER NOT NULL, -- unix milliseconds
    seq         INTEGER NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX incidents_by_alert ON incidents (alert_id);
CREATE INDEX incidents_by_reported ON incidents (reported_at);

-- Each shelter's latest status, written in the same transaction as its event.
CREATE TABLE shelter_status (
    shelter_id INTEGER PRIMARY KEY,
    seq        INTEGER NOT NULL,
    body       TEXT    NOT NULL
);
