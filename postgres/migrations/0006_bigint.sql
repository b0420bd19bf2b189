-- Integer columns that hold Go ints become BIGINT, as SQLite's INTEGER already is: a use
-- limit, a slot, a battery voltage or a file size of 2^31 or more is now kept by both
-- stores alike, where PostgreSQL alone used to refuse it.
ALTER TABLE codes ALTER COLUMN use_limit TYPE BIGINT;
ALTER TABLE grants ALTER COLUMN slot TYPE BIGINT;
ALTER TABLE receipts ALTER COLUMN size TYPE BIGINT;
ALTER TABLE locks ALTER COLUMN battery_mv TYPE BIGINT;
ALTER TABLE events ALTER COLUMN slot TYPE BIGINT;
