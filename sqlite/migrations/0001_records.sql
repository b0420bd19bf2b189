-- Sites, doors, locks, people and the audit log. Times are RFC 3339 text in UTC.
CREATE TABLE sites (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	address    TEXT NOT NULL DEFAULT '',
	time_zone  TEXT NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE doors (
	id      INTEGER PRIMARY KEY,
	site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
	name    TEXT NOT NULL,
	UNIQUE (site_id, name)
);

CREATE TABLE locks (
	id            INTEGER PRIMARY KEY,
	door_id       INTEGER NOT NULL REFERENCES doors (id) ON DELETE RESTRICT,
	name          TEXT NOT NULL,
	model_id      TEXT NOT NULL DEFAULT '',
	has_smartkey  INTEGER NOT NULL DEFAULT 0,
	serial_number TEXT NOT NULL DEFAULT '',
	installed_at  TEXT,
	purchased_at  TEXT,
	notes         TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	driver        TEXT NOT NULL DEFAULT '',
	address       TEXT NOT NULL DEFAULT '',
	UNIQUE (door_id, name)
);
CREATE INDEX locks_status ON locks (status);

CREATE TABLE people (
	id    INTEGER PRIMARY KEY,
	name  TEXT NOT NULL,
	role  TEXT NOT NULL,
	phone TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT ''
);

-- The audit log is append-only; the triggers refuse changes made through SQL, and the
-- hash chain exposes changes made any other way.
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	entity    TEXT NOT NULL,
	entity_id INTEGER NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
