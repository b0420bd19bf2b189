-- Webhooks: subscriptions (the secret sealed by the vault, like PINs) and their
-- deliveries, written in the transaction that records the event (an outbox) and sent by
-- the webhook sender. A subscription's deliveries go with it.
CREATE TABLE webhooks (
	id            INTEGER PRIMARY KEY,
	url           TEXT NOT NULL,
	events        TEXT NOT NULL,
	enabled       INTEGER NOT NULL DEFAULT 1,
	secret_hint   TEXT NOT NULL DEFAULT '',
	sealed_secret BLOB NOT NULL DEFAULT x'',
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY,
	webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id        TEXT NOT NULL,
	kind            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        TEXT NOT NULL DEFAULT '[]',
	next_attempt_us INTEGER, -- Unix microseconds: compared as a number, whatever the store's time encoding
	replay_of       INTEGER,
	created_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_us);
