-- Webhook endpoints. `spec` is the JSON of tryvoha_store::WebhookSpec (url, regions, kinds,
-- statuses, format, owner); the secret signs each delivery (HMAC), so it is kept as it is.
CREATE TABLE webhooks (
    -- AUTOINCREMENT: a removed endpoint's id is never given to another, so nothing left of the
    -- old one (its cursor, a sender finishing) can be taken for the new one's.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    spec          TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    paused        TEXT
);
