-- What connected locks report: their state on the lock's row, and an append-only event
-- history (unlocks by slot and person, wrong codes, jams, batteries, resets).
ALTER TABLE locks ADD COLUMN bolt TEXT NOT NULL DEFAULT '';
ALTER TABLE locks ADD COLUMN battery_mv INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN last_seen TEXT;
CREATE INDEX locks_connection ON locks (driver, address);

CREATE TABLE events (
	id        INTEGER PRIMARY KEY,
	lock_id   INTEGER REFERENCES locks (id) ON DELETE CASCADE,
	kind      TEXT NOT NULL,
	source    TEXT NOT NULL DEFAULT '',
	slot      INTEGER NOT NULL DEFAULT 0,
	person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
	actor     TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT '',
	at        TEXT NOT NULL
);
CREATE INDEX events_lock ON events (lock_id, id);
