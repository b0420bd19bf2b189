-- Procedure runs (SPEC §4.4): the plan, the records of each step and the outcome are one
-- JSON document, read and written whole; the columns are what runs are listed by. A run's
-- locks are kept as ",1,2," so that a run is found by any of them.
CREATE TABLE procedure_runs (
	id         BIGSERIAL PRIMARY KEY,
	kind       TEXT NOT NULL,
	status     TEXT NOT NULL,
	lock_ids   TEXT NOT NULL,
	body       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	started_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	ended_at   TIMESTAMPTZ
);
CREATE INDEX procedure_runs_status ON procedure_runs (status, id);
