-- Mechanical keys and their copies; PIN codes (sealed by the vault) and where each is
-- placed. Only the sealed form of a PIN is ever stored.
CREATE TABLE keys (
	id         BIGSERIAL PRIMARY KEY,
	site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
	label      TEXT NOT NULL,
	keyway     TEXT NOT NULL,
	bitting    TEXT NOT NULL,
	state      TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE key_copies (
	id        BIGSERIAL PRIMARY KEY,
	key_id    BIGINT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	holder_id BIGINT REFERENCES people (id) ON DELETE RESTRICT,
	location  TEXT NOT NULL DEFAULT '',
	state     TEXT NOT NULL
);
CREATE INDEX key_copies_key ON key_copies (key_id);

ALTER TABLE locks ADD COLUMN key_id BIGINT REFERENCES keys (id);

CREATE TABLE codes (
	id         BIGSERIAL PRIMARY KEY,
	person_id  BIGINT NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
	label      TEXT NOT NULL,
	sealed_pin BYTEA NOT NULL,
	schedule   JSONB NOT NULL,
	use_limit  INTEGER NOT NULL DEFAULT 0,
	one_time   BOOLEAN NOT NULL DEFAULT FALSE,
	revoked    BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX codes_person ON codes (person_id);

CREATE TABLE grants (
	id         BIGSERIAL PRIMARY KEY,
	code_id    BIGINT NOT NULL REFERENCES codes (id) ON DELETE CASCADE,
	lock_id    BIGINT NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	slot       INTEGER NOT NULL,
	status     TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMPTZ NOT NULL,
	UNIQUE (code_id, lock_id)
);
CREATE INDEX grants_lock ON grants (lock_id);
