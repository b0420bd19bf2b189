-- Sites, doors, locks, people and the audit log.
CREATE TABLE sites (
	id         BIGSERIAL PRIMARY KEY,
	name       TEXT NOT NULL,
	address    TEXT NOT NULL DEFAULT '',
	time_zone  TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE doors (
	id      BIGSERIAL PRIMARY KEY,
	site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
	name    TEXT NOT NULL,
	UNIQUE (site_id, name)
);

CREATE TABLE locks (
	id            BIGSERIAL PRIMARY KEY,
	door_id       BIGINT NOT NULL REFERENCES doors (id) ON DELETE RESTRICT,
	name          TEXT NOT NULL,
	model_id      TEXT NOT NULL DEFAULT '',
	has_smartkey  BOOLEAN NOT NULL DEFAULT FALSE,
	serial_number TEXT NOT NULL DEFAULT '',
	installed_at  TIMESTAMPTZ,
	purchased_at  TIMESTAMPTZ,
	notes         TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	driver        TEXT NOT NULL DEFAULT '',
	address       TEXT NOT NULL DEFAULT '',
	UNIQUE (door_id, name)
);
CREATE INDEX locks_status ON locks (status);

CREATE TABLE people (
	id    BIGSERIAL PRIMARY KEY,
	name  TEXT NOT NULL,
	role  TEXT NOT NULL,
	phone TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT ''
);

-- The audit log is append-only: the trigger refuses changes made through SQL, and the
-- hash chain exposes changes made any other way.
CREATE TABLE audit (
	seq       BIGINT PRIMARY KEY,
	at        TIMESTAMPTZ NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	entity    TEXT NOT NULL,
	entity_id BIGINT NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
