package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

const siteColumns = `id, name, address, time_zone, code_lead_minutes, created_at`

var insertSite = newInsertion("sites", `name, address, time_zone, code_lead_minutes, created_at`)

func (tx *Tx) scanSite(row scanner) (*latchkey.Site, error) {
	var s latchkey.Site
	return &s, row.Scan(&s.ID, &s.Name, &s.Address, &s.TimeZone, &s.CodeLeadMinutes, tx.time(&s.CreatedAt))
}

// CreateSite inserts a site and sets its id.
func (tx *Tx) CreateSite(ctx context.Context, s *latchkey.Site) (err error) {
	s.ID, err = tx.insert(ctx, insertSite, s.ID, s.Name, s.Address, s.TimeZone, s.CodeLeadMinutes, s.CreatedAt)
	return err
}

// FindSiteByID returns a site.
func (tx *Tx) FindSiteByID(ctx context.Context, id int64) (*latchkey.Site, error) {
	s, err := tx.scanSite(tx.queryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "site", id)
	}
	return s, nil
}

// FindSites lists sites by id.
func (tx *Tx) FindSites(ctx context.Context, p latchkey.Page) ([]*latchkey.Site, int, error) {
	return list(ctx, tx, "sites", siteColumns, filter{}, p, tx.scanSite)
}

// UpdateSite writes a site's fields.
func (tx *Tx) UpdateSite(ctx context.Context, s *latchkey.Site) error {
	return tx.writeOne(ctx, "site", s.ID, `UPDATE sites SET name = ?, address = ?, time_zone = ?, code_lead_minutes = ? WHERE id = ?`,
		s.Name, s.Address, s.TimeZone, s.CodeLeadMinutes, s.ID)
}

// DeleteSite removes a site; it is a conflict while doors remain.
func (tx *Tx) DeleteSite(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "site", id, `DELETE FROM sites WHERE id = ?`, id)
}

const doorColumns = `id, site_id, name`

var insertDoor = newInsertion("doors", `site_id, name`)

func scanDoor(row scanner) (*latchkey.Door, error) {
	var d latchkey.Door
	return &d, row.Scan(&d.ID, &d.SiteID, &d.Name)
}

// CreateDoor inserts a door and sets its id.
func (tx *Tx) CreateDoor(ctx context.Context, d *latchkey.Door) (err error) {
	d.ID, err = tx.insert(ctx, insertDoor, d.ID, d.SiteID, keyText(d.Name))
	return err
}

// FindDoorByID returns a door.
func (tx *Tx) FindDoorByID(ctx context.Context, id int64) (*latchkey.Door, error) {
	d, err := scanDoor(tx.queryRow(ctx, `SELECT `+doorColumns+` FROM doors WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "door", id)
	}
	return d, nil
}

// FindDoors lists doors, optionally of one site.
func (tx *Tx) FindDoors(ctx context.Context, f latchkey.DoorFilter, p latchkey.Page) ([]*latchkey.Door, int, error) {
	var w filter
	if f.SiteID != nil {
		w.add("site_id = ?", *f.SiteID)
	}
	return list(ctx, tx, "doors", doorColumns, w, p, scanDoor)
}

// UpdateDoor writes a door's fields.
func (tx *Tx) UpdateDoor(ctx context.Context, d *latchkey.Door) error {
	return tx.writeOne(ctx, "door", d.ID, `UPDATE doors SET site_id = ?, name = ? WHERE id = ?`, d.SiteID, keyText(d.Name), d.ID)
}

// DeleteDoor removes a door; it is a conflict while locks remain.
func (tx *Tx) DeleteDoor(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "door", id, `DELETE FROM doors WHERE id = ?`, id)
}

const lockColumns = `id, door_id, name, model_id, has_smartkey, serial_number, installed_at, purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen,
	survey_state, survey_read, survey_found, survey_reason`

var insertLock = newInsertion("locks", `door_id, name, model_id, has_smartkey, serial_number, installed_at,
	purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen,
	survey_state, survey_read, survey_found, survey_reason`)

func (tx *Tx) scanLock(row scanner) (*latchkey.Lock, error) {
	var l latchkey.Lock
	return &l, row.Scan(&l.ID, &l.DoorID, &l.Name, &l.ModelID, &l.HasSmartKey, &l.SerialNumber,
		tx.nullTime(&l.InstalledAt), tx.nullTime(&l.PurchasedAt), &l.Notes, &l.Status, &l.Connection.Driver,
		&l.Connection.Address, idDest{&l.KeyID}, &l.State.Bolt, &l.State.BatteryMV, tx.nullTime(&l.State.LastSeen),
		&l.Survey.State, &l.Survey.Read, &l.Survey.Found, &l.Survey.Reason)
}

// lockArgs are a lock's columns after its id, in lockColumns' order; the indexed ones
// are keyText.
func lockArgs(l *latchkey.Lock) []any {
	return []any{l.DoorID, keyText(l.Name), l.ModelID, l.HasSmartKey, l.SerialNumber, l.InstalledAt, l.PurchasedAt,
		l.Notes, keyText(l.Status), keyText(l.Connection.Driver), keyText(l.Connection.Address), nullID(l.KeyID),
		l.State.Bolt, l.State.BatteryMV, l.State.LastSeen, string(l.Survey.State), l.Survey.Read, l.Survey.Found, l.Survey.Reason}
}

// CreateLock inserts a lock and sets its id.
func (tx *Tx) CreateLock(ctx context.Context, l *latchkey.Lock) (err error) {
	l.ID, err = tx.insert(ctx, insertLock, l.ID, lockArgs(l)...)
	return err
}

// FindLockByID returns a lock.
func (tx *Tx) FindLockByID(ctx context.Context, id int64) (*latchkey.Lock, error) {
	l, err := tx.scanLock(tx.queryRow(ctx, `SELECT `+lockColumns+` FROM locks WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "lock", id)
	}
	return l, nil
}

// FindLocks lists locks, filtered by door, key, connection, site or status.
func (tx *Tx) FindLocks(ctx context.Context, f latchkey.LockFilter, p latchkey.Page) ([]*latchkey.Lock, int, error) {
	var w filter
	if f.DoorID != nil {
		w.add("door_id = ?", *f.DoorID)
	}
	if f.KeyID != nil {
		w.add("key_id = ?", *f.KeyID)
	}
	if f.Driver != nil && f.Address != nil {
		w.add("driver = ? AND address = ?", *f.Driver, *f.Address)
	} else if f.Driver != nil {
		w.add("driver = ?", *f.Driver)
	}
	if f.SiteID != nil {
		w.add("door_id IN (SELECT id FROM doors WHERE site_id = ?)", *f.SiteID)
	}
	if f.Status != nil {
		w.add("status = ?", *f.Status)
	}
	if f.IDs != nil {
		if err := w.addIn("id", f.IDs); err != nil {
			return nil, 0, err
		}
	}
	return list(ctx, tx, "locks", lockColumns, w, p, tx.scanLock)
}

// UpdateLock writes a lock's fields.
func (tx *Tx) UpdateLock(ctx context.Context, l *latchkey.Lock) error {
	return tx.writeOne(ctx, "lock", l.ID, `UPDATE locks SET door_id = ?, name = ?, model_id = ?, has_smartkey = ?, serial_number = ?,
		installed_at = ?, purchased_at = ?, notes = ?, status = ?, driver = ?, address = ?, key_id = ?, bolt = ?, battery_mv = ?, last_seen = ?,
		survey_state = ?, survey_read = ?, survey_found = ?, survey_reason = ?
		WHERE id = ?`, append(lockArgs(l), l.ID)...)
}

// DeleteLock removes a lock.
func (tx *Tx) DeleteLock(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "lock", id, `DELETE FROM locks WHERE id = ?`, id)
}

const personColumns = `id, name, role, phone, email`

var insertPerson = newInsertion("people", `name, role, phone, email`)

func scanPerson(row scanner) (*latchkey.Person, error) {
	var p latchkey.Person
	return &p, row.Scan(&p.ID, &p.Name, &p.Role, &p.Phone, &p.Email)
}

// CreatePerson inserts a person and sets their id.
func (tx *Tx) CreatePerson(ctx context.Context, p *latchkey.Person) (err error) {
	p.ID, err = tx.insert(ctx, insertPerson, p.ID, p.Name, p.Role, p.Phone, p.Email)
	return err
}

// FindPersonByID returns a person.
func (tx *Tx) FindPersonByID(ctx context.Context, id int64) (*latchkey.Person, error) {
	p, err := scanPerson(tx.queryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "person", id)
	}
	return p, nil
}

// FindPeople lists people by id.
func (tx *Tx) FindPeople(ctx context.Context, p latchkey.Page) ([]*latchkey.Person, int, error) {
	return list(ctx, tx, "people", personColumns, filter{}, p, scanPerson)
}

// UpdatePerson writes a person's fields.
func (tx *Tx) UpdatePerson(ctx context.Context, p *latchkey.Person) error {
	return tx.writeOne(ctx, "person", p.ID, `UPDATE people SET name = ?, role = ?, phone = ?, email = ? WHERE id = ?`,
		p.Name, p.Role, p.Phone, p.Email, p.ID)
}

// DeletePerson removes a person.
func (tx *Tx) DeletePerson(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "person", id, `DELETE FROM people WHERE id = ?`, id)
}
