-- Web Push subscriptions: one per endpoint. `filter` is the JSON of tryvoha_store::PushFilter
-- (regions, kinds, statuses, lang).
CREATE TABLE push_subscriptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint    TEXT    NOT NULL UNIQUE,
    p256dh      TEXT    NOT NULL,
    auth        TEXT    NOT NULL,
    filter      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
