-- A lock's service log, and files kept with its records (receipts, up to 10 MiB each).
CREATE TABLE service_log (
	id                INTEGER PRIMARY KEY,
	lock_id           INTEGER NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	at                TEXT NOT NULL,
	actor             TEXT NOT NULL,
	kind              TEXT NOT NULL,
	note              TEXT NOT NULL,
	warranty_relevant INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX service_log_lock ON service_log (lock_id);

CREATE TABLE receipts (
	id           INTEGER PRIMARY KEY,
	lock_id      INTEGER NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL,
	added_at     TEXT NOT NULL,
	data         BLOB NOT NULL
);
CREATE INDEX receipts_lock ON receipts (lock_id);
