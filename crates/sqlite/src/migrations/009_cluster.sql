-- Leases on singleton work (one holder per name until `expires_ms`, Unix milliseconds) and the
-- server's keys by name. An embedded database has one server, but the same tables keep the
-- adapters alike and `tryvoha migrate` carries the keys to PostgreSQL.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE cluster_keys (
    name TEXT PRIMARY KEY,
    key  BLOB NOT NULL
);
