-- Per subscription, the newest event its push service accepted: a sender that restarts in the
-- middle of an event sends it to the rest only.
ALTER TABLE push_subscriptions ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;
