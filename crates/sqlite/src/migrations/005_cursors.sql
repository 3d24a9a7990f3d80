-- Where each follower of the log (MQTT, webhooks, Web Push) stands: the last sequence number
-- its far side acknowledged. A consumer without a row has delivered nothing (0).
CREATE TABLE cursors (
    consumer TEXT    PRIMARY KEY,
    seq      INTEGER NOT NULL CHECK (seq >= 0)
);
