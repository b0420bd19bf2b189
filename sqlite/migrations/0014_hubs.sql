-- Hubs Latchkey reaches locks through (a Z-Wave JS server, a Zigbee2MQTT installation).
-- A lock's connection names only its driver, so one hub per driver: the driver is
-- unique. The MQTT password or server token is sealed by the vault, like PINs.
CREATE TABLE hubs (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	driver        TEXT NOT NULL UNIQUE,
	url           TEXT NOT NULL,
	base_topic    TEXT NOT NULL DEFAULT '',
	username      TEXT NOT NULL DEFAULT '',
	has_secret    INTEGER NOT NULL DEFAULT 0,
	sealed_secret BLOB NOT NULL DEFAULT x'',
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL
);
