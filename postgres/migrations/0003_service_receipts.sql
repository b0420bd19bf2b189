-- A lock's service log, and files kept with its records (receipts, up to 10 MiB each).
CREATE TABLE service_log (
	id                BIGSERIAL PRIMARY KEY,
	lock_id           BIGINT NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	at                TIMESTAMPTZ NOT NULL,
	actor             TEXT NOT NULL,
	kind              TEXT NOT NULL,
	note              TEXT NOT NULL,
	warranty_relevant BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX service_log_lock ON service_log (lock_id);

CREATE TABLE receipts (
	id           BIGSERIAL PRIMARY KEY,
	lock_id      BIGINT NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL,
	added_at     TIMESTAMPTZ NOT NULL,
	data         BYTEA NOT NULL
);
CREATE INDEX receipts_lock ON receipts (lock_id);
