-- Leases on singleton work (the MQTT publisher, the webhook and Web Push senders): one holder
-- per name until `expires_at`, by the database's clock, so that the nodes' clocks never matter.
CREATE TABLE leases (
    name       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- The cluster's keys by name (the event signing key, the VAPID key): the first node to start
-- offers its own, every later node uses the one kept.
CREATE TABLE cluster_keys (
    name TEXT  PRIMARY KEY,
    key  BYTEA NOT NULL
);
