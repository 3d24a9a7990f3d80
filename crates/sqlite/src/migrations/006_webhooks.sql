-- Webhook endpoints. `spec` is the JSON of tryvoha_store::WebhookSpec (url, regions, kinds,
-- statuses, format, owner); the secret signs each delivery (HMAC), so it is kept as it is.
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    spec          TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    paused        TEXT
);
