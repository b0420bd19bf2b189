-- How long before a code's time starts the sync engine puts it on the site's locks.
ALTER TABLE sites ADD COLUMN code_lead_minutes INTEGER NOT NULL DEFAULT 60;
