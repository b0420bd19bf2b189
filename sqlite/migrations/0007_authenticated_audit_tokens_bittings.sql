-- The audit log authenticated: each entry's MAC (a key kept with the vault's keys, never
-- here), and where the log ends, recorded apart from it, so that cutting entries off the
-- end is seen. API tokens expire and record their last use. Key bittings are sealed by
-- the vault like PINs; the clear column stays empty for keys recorded from now on, and
-- the service seals the ones recorded before (Service.SealBittings).
ALTER TABLE audit ADD COLUMN mac TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL,
	mac  TEXT NOT NULL
);
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE keys ADD COLUMN sealed_bitting BLOB NOT NULL DEFAULT x'';
