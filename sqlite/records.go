package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/latchkey/latchkey"
)

// exec runs a statement that must touch one row; none means the record is missing.
func (tx *Tx) exec(ctx context.Context, what string, id int64, query string, args ...any) error {
	res, err := tx.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return FormatError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return FormatError(err)
	} else if n == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return nil
}

// insert runs an INSERT and returns the new row's id.
func (tx *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, FormatError(err)
	}
	id, err := res.LastInsertId()
	return id, FormatError(err)
}

// list runs a counted, paged query: where and args filter both the count and the page.
func list[T any](ctx context.Context, tx *Tx, table, columns, where string, args []any, p latchkey.Page, scan func(*sql.Rows) (T, error)) ([]T, int, error) {
	var total int
	if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+where, args...).Scan(&total); err != nil {
		return nil, 0, FormatError(err)
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+columns+` FROM `+table+where+` ORDER BY id LIMIT ? OFFSET ?`,
		append(args, p.PageLimit(), max(p.Offset, 0))...)
	if err != nil {
		return nil, 0, FormatError(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, FormatError(err)
		}
		out = append(out, v)
	}
	return out, total, FormatError(rows.Err())
}

// where joins conditions into a WHERE clause.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

const siteColumns = `id, name, address, time_zone, created_at`

func scanSite(row interface{ Scan(...any) error }) (*latchkey.Site, error) {
	var s latchkey.Site
	var created string
	if err := row.Scan(&s.ID, &s.Name, &s.Address, &s.TimeZone, &created); err != nil {
		return nil, err
	}
	var err error
	s.CreatedAt, err = parseTime(created)
	return &s, err
}

// CreateSite inserts a site and sets its id.
func (tx *Tx) CreateSite(ctx context.Context, s *latchkey.Site) (err error) {
	s.ID, err = tx.insert(ctx, `INSERT INTO sites (id, name, address, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
		nullID(s.ID), s.Name, s.Address, s.TimeZone, formatTime(s.CreatedAt))
	return err
}

// FindSiteByID returns a site.
func (tx *Tx) FindSiteByID(ctx context.Context, id int64) (*latchkey.Site, error) {
	s, err := scanSite(tx.tx.QueryRowContext(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "site", id)
	}
	return s, nil
}

// FindSites lists sites by id.
func (tx *Tx) FindSites(ctx context.Context, p latchkey.Page) ([]*latchkey.Site, int, error) {
	return list(ctx, tx, "sites", siteColumns, "", nil, p, func(r *sql.Rows) (*latchkey.Site, error) { return scanSite(r) })
}

// UpdateSite writes a site's fields.
func (tx *Tx) UpdateSite(ctx context.Context, s *latchkey.Site) error {
	return tx.exec(ctx, "site", s.ID, `UPDATE sites SET name = ?, address = ?, time_zone = ? WHERE id = ?`,
		s.Name, s.Address, s.TimeZone, s.ID)
}

// DeleteSite removes a site; it is a conflict while doors remain.
func (tx *Tx) DeleteSite(ctx context.Context, id int64) error {
	return tx.exec(ctx, "site", id, `DELETE FROM sites WHERE id = ?`, id)
}

const doorColumns = `id, site_id, name`

func scanDoor(row interface{ Scan(...any) error }) (*latchkey.Door, error) {
	var d latchkey.Door
	return &d, row.Scan(&d.ID, &d.SiteID, &d.Name)
}

// CreateDoor inserts a door and sets its id.
func (tx *Tx) CreateDoor(ctx context.Context, d *latchkey.Door) (err error) {
	d.ID, err = tx.insert(ctx, `INSERT INTO doors (id, site_id, name) VALUES (?, ?, ?)`, nullID(d.ID), d.SiteID, d.Name)
	return err
}

// FindDoorByID returns a door.
func (tx *Tx) FindDoorByID(ctx context.Context, id int64) (*latchkey.Door, error) {
	d, err := scanDoor(tx.tx.QueryRowContext(ctx, `SELECT `+doorColumns+` FROM doors WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "door", id)
	}
	return d, nil
}

// FindDoors lists doors, optionally of one site.
func (tx *Tx) FindDoors(ctx context.Context, f latchkey.DoorFilter, p latchkey.Page) ([]*latchkey.Door, int, error) {
	var conds []string
	var args []any
	if f.SiteID != nil {
		conds, args = append(conds, "site_id = ?"), append(args, *f.SiteID)
	}
	return list(ctx, tx, "doors", doorColumns, where(conds), args, p, func(r *sql.Rows) (*latchkey.Door, error) { return scanDoor(r) })
}

// UpdateDoor writes a door's fields.
func (tx *Tx) UpdateDoor(ctx context.Context, d *latchkey.Door) error {
	return tx.exec(ctx, "door", d.ID, `UPDATE doors SET site_id = ?, name = ? WHERE id = ?`, d.SiteID, d.Name, d.ID)
}

// DeleteDoor removes a door; it is a conflict while locks remain.
func (tx *Tx) DeleteDoor(ctx context.Context, id int64) error {
	return tx.exec(ctx, "door", id, `DELETE FROM doors WHERE id = ?`, id)
}

const lockColumns = `id, door_id, name, model_id, has_smartkey, serial_number, installed_at, purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen`

func scanLock(row interface{ Scan(...any) error }) (*latchkey.Lock, error) {
	var l latchkey.Lock
	var installed, purchased, seen sql.NullString
	var keyID sql.NullInt64
	if err := row.Scan(&l.ID, &l.DoorID, &l.Name, &l.ModelID, &l.HasSmartKey, &l.SerialNumber, &installed, &purchased,
		&l.Notes, &l.Status, &l.Connection.Driver, &l.Connection.Address, &keyID, &l.State.Bolt, &l.State.BatteryMV, &seen); err != nil {
		return nil, err
	}
	l.KeyID = keyID.Int64
	var err error
	if l.State.LastSeen, err = scanNullTime(seen); err != nil {
		return nil, err
	}
	if l.InstalledAt, err = scanNullTime(installed); err != nil {
		return nil, err
	}
	l.PurchasedAt, err = scanNullTime(purchased)
	return &l, err
}

func lockArgs(l *latchkey.Lock) []any {
	return []any{l.DoorID, l.Name, l.ModelID, l.HasSmartKey, l.SerialNumber, nullTime(l.InstalledAt), nullTime(l.PurchasedAt),
		l.Notes, string(l.Status), string(l.Connection.Driver), l.Connection.Address, nullID(l.KeyID),
		l.State.Bolt, l.State.BatteryMV, nullTime(l.State.LastSeen)}
}

// nullID stores an absent reference (0) as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateLock inserts a lock and sets its id.
func (tx *Tx) CreateLock(ctx context.Context, l *latchkey.Lock) (err error) {
	l.ID, err = tx.insert(ctx, `INSERT INTO locks (id, door_id, name, model_id, has_smartkey, serial_number, installed_at,
		purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{nullID(l.ID)}, lockArgs(l)...)...)
	return err
}

// FindLockByID returns a lock.
func (tx *Tx) FindLockByID(ctx context.Context, id int64) (*latchkey.Lock, error) {
	l, err := scanLock(tx.tx.QueryRowContext(ctx, `SELECT `+lockColumns+` FROM locks WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "lock", id)
	}
	return l, nil
}

// FindLocks lists locks, filtered by door, site or status.
func (tx *Tx) FindLocks(ctx context.Context, f latchkey.LockFilter, p latchkey.Page) ([]*latchkey.Lock, int, error) {
	var conds []string
	var args []any
	if f.DoorID != nil {
		conds, args = append(conds, "door_id = ?"), append(args, *f.DoorID)
	}
	if f.KeyID != nil {
		conds, args = append(conds, "key_id = ?"), append(args, *f.KeyID)
	}
	if f.Driver != nil && f.Address != nil {
		conds, args = append(conds, "driver = ? AND address = ?"), append(args, string(*f.Driver), *f.Address)
	}
	if f.SiteID != nil {
		conds, args = append(conds, "door_id IN (SELECT id FROM doors WHERE site_id = ?)"), append(args, *f.SiteID)
	}
	if f.Status != nil {
		conds, args = append(conds, "status = ?"), append(args, string(*f.Status))
	}
	return list(ctx, tx, "locks", lockColumns, where(conds), args, p, func(r *sql.Rows) (*latchkey.Lock, error) { return scanLock(r) })
}

// UpdateLock writes a lock's fields.
func (tx *Tx) UpdateLock(ctx context.Context, l *latchkey.Lock) error {
	return tx.exec(ctx, "lock", l.ID, `UPDATE locks SET door_id = ?, name = ?, model_id = ?, has_smartkey = ?, serial_number = ?,
		installed_at = ?, purchased_at = ?, notes = ?, status = ?, driver = ?, address = ?, key_id = ?, bolt = ?, battery_mv = ?, last_seen = ?
		WHERE id = ?`, append(lockArgs(l), l.ID)...)
}

// DeleteLock removes a lock.
func (tx *Tx) DeleteLock(ctx context.Context, id int64) error {
	return tx.exec(ctx, "lock", id, `DELETE FROM locks WHERE id = ?`, id)
}

const personColumns = `id, name, role, phone, email`

func scanPerson(row interface{ Scan(...any) error }) (*latchkey.Person, error) {
	var p latchkey.Person
	return &p, row.Scan(&p.ID, &p.Name, &p.Role, &p.Phone, &p.Email)
}

// CreatePerson inserts a person and sets their id.
func (tx *Tx) CreatePerson(ctx context.Context, p *latchkey.Person) (err error) {
	p.ID, err = tx.insert(ctx, `INSERT INTO people (id, name, role, phone, email) VALUES (?, ?, ?, ?, ?)`, nullID(p.ID), p.Name, string(p.Role), p.Phone, p.Email)
	return err
}

// FindPersonByID returns a person.
func (tx *Tx) FindPersonByID(ctx context.Context, id int64) (*latchkey.Person, error) {
	p, err := scanPerson(tx.tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "person", id)
	}
	return p, nil
}

// FindPeople lists people by id.
func (tx *Tx) FindPeople(ctx context.Context, p latchkey.Page) ([]*latchkey.Person, int, error) {
	return list(ctx, tx, "people", personColumns, "", nil, p, func(r *sql.Rows) (*latchkey.Person, error) { return scanPerson(r) })
}

// UpdatePerson writes a person's fields.
func (tx *Tx) UpdatePerson(ctx context.Context, p *latchkey.Person) error {
	return tx.exec(ctx, "person", p.ID, `UPDATE people SET name = ?, role = ?, phone = ?, email = ? WHERE id = ?`,
		p.Name, string(p.Role), p.Phone, p.Email, p.ID)
}

// DeletePerson removes a person.
func (tx *Tx) DeletePerson(ctx context.Context, id int64) error {
	return tx.exec(ctx, "person", id, `DELETE FROM people WHERE id = ?`, id)
}

const auditColumns = `seq, at, actor, action, entity, entity_id, detail, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (*latchkey.AuditEntry, error) {
	var e latchkey.AuditEntry
	var at string
	if err := row.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	var err error
	e.At, err = parseTime(at)
	return &e, err
}

// AppendAudit stores a sealed entry.
func (tx *Tx) AppendAudit(ctx context.Context, e *latchkey.AuditEntry) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, formatTime(e.At), e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash)
	return FormatError(err)
}

// LastAudit returns the newest entry, or nil for an empty log.
func (tx *Tx) LastAudit(ctx context.Context) (*latchkey.AuditEntry, error) {
	e, err := scanAudit(tx.tx.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq DESC LIMIT 1`))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return e, FormatError(err)
}

// FindAudit returns up to limit entries after seq, in order.
func (tx *Tx) FindAudit(ctx context.Context, after int64, limit int) ([]*latchkey.AuditEntry, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, FormatError(err)
	}
	defer rows.Close()
	var out []*latchkey.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, FormatError(err)
		}
		out = append(out, e)
	}
	return out, FormatError(rows.Err())
}
