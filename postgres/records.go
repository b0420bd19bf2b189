package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// exec runs a statement that must touch one row; none means the record is missing.
func (tx *Tx) exec(ctx context.Context, what string, id int64, query string, args ...any) error {
	tag, err := tx.tx.Exec(ctx, query, args...)
	if err != nil {
		return FormatError(err)
	}
	if tag.RowsAffected() == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return nil
}

// insert runs an INSERT ... RETURNING id whose first argument is the id: the record's
// own when it has one (a restore), else the table's next. After an explicit id the
// table's sequence is moved past it, so that later inserts do not collide.
func (tx *Tx) insert(ctx context.Context, table string, id int64, query string, args ...any) (int64, error) {
	var got int64
	if err := tx.tx.QueryRow(ctx, query, append([]any{nullID(id)}, args...)...).Scan(&got); err != nil {
		return 0, FormatError(err)
	}
	if id != 0 {
		if _, err := tx.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), (SELECT MAX(id) FROM `+table+`))`); err != nil {
			return 0, FormatError(err)
		}
	}
	return got, nil
}

// nextID is the id expression of an insert: the given id, or the table's next.
func nextID(table string) string {
	return `COALESCE($1::bigint, nextval(pg_get_serial_sequence('` + table + `', 'id')))`
}

// list runs a counted, paged query. conds use $1..$n for args.
func list[T any](ctx context.Context, tx *Tx, table, columns string, conds []string, args []any, p latchkey.Page, scan func(pgx.Row) (T, error)) ([]T, int, error) {
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := tx.tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+where, args...).Scan(&total); err != nil {
		return nil, 0, FormatError(err)
	}
	n := len(args)
	rows, err := tx.tx.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s%s ORDER BY id LIMIT $%d OFFSET $%d`, columns, table, where, n+1, n+2),
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

const siteColumns = `id, name, address, time_zone, created_at`

func scanSite(row pgx.Row) (*latchkey.Site, error) {
	var s latchkey.Site
	if err := row.Scan(&s.ID, &s.Name, &s.Address, &s.TimeZone, &s.CreatedAt); err != nil {
		return nil, err
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return &s, nil
}

// CreateSite inserts a site and sets its id.
func (tx *Tx) CreateSite(ctx context.Context, s *latchkey.Site) (err error) {
	s.ID, err = tx.insert(ctx, "sites", s.ID, `INSERT INTO sites (id, name, address, time_zone, created_at) VALUES (`+nextID("sites")+`, $2, $3, $4, $5) RETURNING id`,
		s.Name, s.Address, s.TimeZone, s.CreatedAt)
	return err
}

// FindSiteByID returns a site.
func (tx *Tx) FindSiteByID(ctx context.Context, id int64) (*latchkey.Site, error) {
	s, err := scanSite(tx.tx.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "site", id)
	}
	return s, nil
}

// FindSites lists sites by id.
func (tx *Tx) FindSites(ctx context.Context, p latchkey.Page) ([]*latchkey.Site, int, error) {
	return list(ctx, tx, "sites", siteColumns, nil, nil, p, scanSite)
}

// UpdateSite writes a site's fields.
func (tx *Tx) UpdateSite(ctx context.Context, s *latchkey.Site) error {
	return tx.exec(ctx, "site", s.ID, `UPDATE sites SET name = $1, address = $2, time_zone = $3 WHERE id = $4`,
		s.Name, s.Address, s.TimeZone, s.ID)
}

// DeleteSite removes a site; it is a conflict while doors remain.
func (tx *Tx) DeleteSite(ctx context.Context, id int64) error {
	return tx.exec(ctx, "site", id, `DELETE FROM sites WHERE id = $1`, id)
}

const doorColumns = `id, site_id, name`

func scanDoor(row pgx.Row) (*latchkey.Door, error) {
	var d latchkey.Door
	return &d, row.Scan(&d.ID, &d.SiteID, &d.Name)
}

// CreateDoor inserts a door and sets its id.
func (tx *Tx) CreateDoor(ctx context.Context, d *latchkey.Door) (err error) {
	d.ID, err = tx.insert(ctx, "doors", d.ID, `INSERT INTO doors (id, site_id, name) VALUES (`+nextID("doors")+`, $2, $3) RETURNING id`, d.SiteID, d.Name)
	return err
}

// FindDoorByID returns a door.
func (tx *Tx) FindDoorByID(ctx context.Context, id int64) (*latchkey.Door, error) {
	d, err := scanDoor(tx.tx.QueryRow(ctx, `SELECT `+doorColumns+` FROM doors WHERE id = $1`, id))
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
		args = append(args, *f.SiteID)
		conds = append(conds, fmt.Sprintf("site_id = $%d", len(args)))
	}
	return list(ctx, tx, "doors", doorColumns, conds, args, p, scanDoor)
}

// UpdateDoor writes a door's fields.
func (tx *Tx) UpdateDoor(ctx context.Context, d *latchkey.Door) error {
	return tx.exec(ctx, "door", d.ID, `UPDATE doors SET site_id = $1, name = $2 WHERE id = $3`, d.SiteID, d.Name, d.ID)
}

// DeleteDoor removes a door; it is a conflict while locks remain.
func (tx *Tx) DeleteDoor(ctx context.Context, id int64) error {
	return tx.exec(ctx, "door", id, `DELETE FROM doors WHERE id = $1`, id)
}

const lockColumns = `id, door_id, name, model_id, has_smartkey, serial_number, installed_at, purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen`

func scanLock(row pgx.Row) (*latchkey.Lock, error) {
	var l latchkey.Lock
	var keyID *int64
	if err := row.Scan(&l.ID, &l.DoorID, &l.Name, &l.ModelID, &l.HasSmartKey, &l.SerialNumber, &l.InstalledAt, &l.PurchasedAt,
		&l.Notes, &l.Status, &l.Connection.Driver, &l.Connection.Address, &keyID, &l.State.Bolt, &l.State.BatteryMV, &l.State.LastSeen); err != nil {
		return nil, err
	}
	if keyID != nil {
		l.KeyID = *keyID
	}
	for _, t := range []**time.Time{&l.InstalledAt, &l.PurchasedAt, &l.State.LastSeen} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return &l, nil
}

func lockArgs(l *latchkey.Lock) []any {
	return []any{l.DoorID, l.Name, l.ModelID, l.HasSmartKey, l.SerialNumber, l.InstalledAt, l.PurchasedAt,
		l.Notes, string(l.Status), string(l.Connection.Driver), l.Connection.Address, nullID(l.KeyID),
		l.State.Bolt, l.State.BatteryMV, l.State.LastSeen}
}

// nullID stores an absent reference (0) as NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CreateLock inserts a lock and sets its id.
func (tx *Tx) CreateLock(ctx context.Context, l *latchkey.Lock) (err error) {
	l.ID, err = tx.insert(ctx, "locks", l.ID, `INSERT INTO locks (id, door_id, name, model_id, has_smartkey, serial_number, installed_at,
		purchased_at, notes, status, driver, address, key_id, bolt, battery_mv, last_seen)
		VALUES (`+nextID("locks")+`, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		lockArgs(l)...)
	return err
}

// FindLockByID returns a lock.
func (tx *Tx) FindLockByID(ctx context.Context, id int64) (*latchkey.Lock, error) {
	l, err := scanLock(tx.tx.QueryRow(ctx, `SELECT `+lockColumns+` FROM locks WHERE id = $1`, id))
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
		args = append(args, *f.DoorID)
		conds = append(conds, fmt.Sprintf("door_id = $%d", len(args)))
	}
	if f.KeyID != nil {
		args = append(args, *f.KeyID)
		conds = append(conds, fmt.Sprintf("key_id = $%d", len(args)))
	}
	if f.Driver != nil && f.Address != nil {
		args = append(args, string(*f.Driver), *f.Address)
		conds = append(conds, fmt.Sprintf("driver = $%d AND address = $%d", len(args)-1, len(args)))
	}
	if f.SiteID != nil {
		args = append(args, *f.SiteID)
		conds = append(conds, fmt.Sprintf("door_id IN (SELECT id FROM doors WHERE site_id = $%d)", len(args)))
	}
	if f.Status != nil {
		args = append(args, string(*f.Status))
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	return list(ctx, tx, "locks", lockColumns, conds, args, p, scanLock)
}

// UpdateLock writes a lock's fields.
func (tx *Tx) UpdateLock(ctx context.Context, l *latchkey.Lock) error {
	return tx.exec(ctx, "lock", l.ID, `UPDATE locks SET door_id = $1, name = $2, model_id = $3, has_smartkey = $4, serial_number = $5,
		installed_at = $6, purchased_at = $7, notes = $8, status = $9, driver = $10, address = $11, key_id = $12,
		bolt = $13, battery_mv = $14, last_seen = $15 WHERE id = $16`, append(lockArgs(l), l.ID)...)
}

// DeleteLock removes a lock.
func (tx *Tx) DeleteLock(ctx context.Context, id int64) error {
	return tx.exec(ctx, "lock", id, `DELETE FROM locks WHERE id = $1`, id)
}

const personColumns = `id, name, role, phone, email`

func scanPerson(row pgx.Row) (*latchkey.Person, error) {
	var p latchkey.Person
	return &p, row.Scan(&p.ID, &p.Name, &p.Role, &p.Phone, &p.Email)
}

// CreatePerson inserts a person and sets their id.
func (tx *Tx) CreatePerson(ctx context.Context, p *latchkey.Person) (err error) {
	p.ID, err = tx.insert(ctx, "people", p.ID, `INSERT INTO people (id, name, role, phone, email) VALUES (`+nextID("people")+`, $2, $3, $4, $5) RETURNING id`,
		p.Name, string(p.Role), p.Phone, p.Email)
	return err
}

// FindPersonByID returns a person.
func (tx *Tx) FindPersonByID(ctx context.Context, id int64) (*latchkey.Person, error) {
	p, err := scanPerson(tx.tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "person", id)
	}
	return p, nil
}

// FindPeople lists people by id.
func (tx *Tx) FindPeople(ctx context.Context, p latchkey.Page) ([]*latchkey.Person, int, error) {
	return list(ctx, tx, "people", personColumns, nil, nil, p, scanPerson)
}

// UpdatePerson writes a person's fields.
func (tx *Tx) UpdatePerson(ctx context.Context, p *latchkey.Person) error {
	return tx.exec(ctx, "person", p.ID, `UPDATE people SET name = $1, role = $2, phone = $3, email = $4 WHERE id = $5`,
		p.Name, string(p.Role), p.Phone, p.Email, p.ID)
}

// DeletePerson removes a person.
func (tx *Tx) DeletePerson(ctx context.Context, id int64) error {
	return tx.exec(ctx, "person", id, `DELETE FROM people WHERE id = $1`, id)
}

const auditColumns = `seq, at, actor, action, entity, entity_id, detail, prev_hash, hash`

func scanAudit(row pgx.Row) (*latchkey.AuditEntry, error) {
	var e latchkey.AuditEntry
	if err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = e.At.UTC()
	return &e, nil
}

// AppendAudit stores a sealed entry.
func (tx *Tx) AppendAudit(ctx context.Context, e *latchkey.AuditEntry) error {
	_, err := tx.tx.Exec(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash)
	return FormatError(err)
}

// LastAudit returns the newest entry, or nil for an empty log. It first takes the
// transaction's advisory lock on the audit chain, so that concurrent changes append one
// after another instead of racing for the same sequence number.
func (tx *Tx) LastAudit(ctx context.Context) (*latchkey.AuditEntry, error) {
	if _, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
		return nil, FormatError(err)
	}
	e, err := scanAudit(tx.tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq DESC LIMIT 1`))
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	return e, FormatError(err)
}

// FindAudit returns up to limit entries after seq, in order.
func (tx *Tx) FindAudit(ctx context.Context, after int64, limit int) ([]*latchkey.AuditEntry, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+auditColumns+` FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
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
