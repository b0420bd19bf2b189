-- The sync engine's failed tries in a row at a code on a lock (bounding how often a slot
-- is written), and when a delay in reaching or leaving the lock was last delivered.
ALTER TABLE grants ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE grants ADD COLUMN delay_noted_at TEXT;
