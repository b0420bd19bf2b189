-- Webhooks: subscriptions (the secret sealed by the vault, like PINs) and their
-- deliveries, written in the transaction that records the event (an outbox) and sent by
-- the webhook sender. A subscription's deliveries go with it.
CREATE TABLE webhooks (
	id            BIGSERIAL PRIMARY KEY,
	url           TEXT NOT NULL,
	events        TEXT NOT NULL,
	enabled       BOOLEAN NOT NULL DEFAULT TRUE,
	secret_hint   TEXT NOT NULL DEFAULT '',
	sealed_secret BYTEA NOT NULL DEFAULT '',
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              BIGSERIAL PRIMARY KEY,
	webhook_id      BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event_id        TEXT NOT NULL,
	kind            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        TEXT NOT NULL DEFAULT '[]',
	next_attempt_us BIGINT, -- Unix microseconds: compared as a number, whatever the store's time encoding
	replay_of       BIGINT,
	created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_us);
