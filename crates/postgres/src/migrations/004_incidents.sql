-- tryvoha-sqlite's migration 011: the log carries incidents and shelter statuses beside
-- alerts (an event's alert_id is empty for those), and an index of each.
ALTER TABLE events ALTER COLUMN alert_id DROP NOT NULL;
CREATE INDEX events_by_type_at ON events (type, at);

CREATE TABLE incidents (
    id          BIGINT  PRIMARY KEY,
    region_id   BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    alert_id    BIGINT,
    status      TEXT    NOT NULL,
    public      BOOLEAN NOT NULL,
    reported_at BIGINT  NOT NULL, -- unix milliseconds
    seq         BIGINT  NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX incidents_by_alert ON incidents (alert_id);
CREATE INDEX incidents_by_reported ON incidents (reported_at);

CREATE TABLE shelter_status (
    shelter_id BIGINT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    body       TEXT   NOT NULL
);
