-- SQLite gives a new row the largest id plus one, so the id of the newest record, once
-- deleted, would be given again: an audit entry about the old record would then seem to
-- be about the new one. The highest id each table ever gave is kept here instead
-- (PostgreSQL's sequences never go back).
CREATE TABLE id_highs (
	name TEXT PRIMARY KEY,
	high INTEGER NOT NULL
);
