-- The reading of a lock's slots after it was adopted from its hub: where it stands
-- ('' for none, pending, done), how many slots were read and held a code, and why a
-- pending one stopped.
ALTER TABLE locks ADD COLUMN survey_state TEXT NOT NULL DEFAULT '';
ALTER TABLE locks ADD COLUMN survey_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN survey_found INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN survey_reason TEXT NOT NULL DEFAULT '';
