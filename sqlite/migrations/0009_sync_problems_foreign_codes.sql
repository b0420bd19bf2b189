-- Where a code stands on a lock, typed: the problem's kind (and the slot a duplicate
-- collides with) beside the sentence for people, the revoked-but-used alert on its own,
-- when the engine tries again, and the keypad unlocks counted against a use limit.
ALTER TABLE grants ADD COLUMN problem TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN problem_slot INTEGER NOT NULL DEFAULT 0;
ALTER TABLE grants ADD COLUMN alert TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN next_attempt TEXT;
ALTER TABLE grants ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;

-- Reasons written before as prefixed sentences take their kind, so that a code waiting for
-- a person is not tried again on its own, and the alert moves to its own column.
UPDATE grants SET problem = 'duplicate_on_device'
	WHERE status = 'failed' AND reason LIKE 'Refused by the lock: %' AND lower(reason) LIKE '%duplicate%';
UPDATE grants SET problem = 'constraints_violated'
	WHERE status = 'failed' AND reason LIKE 'Refused by the lock: %' AND problem = '';
UPDATE grants SET problem = 'conflict_removed_at_lock' WHERE status = 'failed' AND reason LIKE 'Changed at the lock: %';
UPDATE grants SET alert = reason, reason = '' WHERE reason LIKE 'Used at the door after it was revoked%';

-- Codes on locks in slots Latchkey does not own (set at the keypad), listed for a person
-- to adopt or clear; never their digits.
CREATE TABLE foreign_codes (
	id       INTEGER PRIMARY KEY,
	lock_id  INTEGER NOT NULL REFERENCES locks (id) ON DELETE CASCADE,
	slot     INTEGER NOT NULL,
	source   TEXT NOT NULL DEFAULT '',
	seen_at  TEXT NOT NULL,
	clearing INTEGER NOT NULL DEFAULT 0,
	reason   TEXT NOT NULL DEFAULT '',
	UNIQUE (lock_id, slot)
);
