package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

// A hub is one row; its driver is unique (one hub per driver), and its secret is kept
// as the vault sealed it.

const hubColumns = `id, name, driver, url, base_topic, username, has_secret, sealed_secret, created_by, created_at`

var insertHub = newInsertion("hubs", `name, driver, url, base_topic, username, has_secret, sealed_secret, created_by, created_at`)

func (tx *Tx) scanHub(row scanner) (*latchkey.Hub, error) {
	var h latchkey.Hub
	if err := row.Scan(&h.ID, &h.Name, &h.Driver, &h.URL, &h.BaseTopic, &h.Username, &h.HasSecret, &h.SealedSecret, &h.CreatedBy, tx.time(&h.CreatedAt)); err != nil {
		return nil, err
	}
	return &h, nil
}

// CreateHub inserts a hub and sets its id; a second hub of the same driver is a conflict.
func (tx *Tx) CreateHub(ctx context.Context, h *latchkey.Hub) (err error) {
	sealed := h.SealedSecret
	if sealed == nil {
		sealed = []byte{}
	}
	h.ID, err = tx.insert(ctx, insertHub, h.ID, h.Name, keyText(h.Driver), h.URL, h.BaseTopic, h.Username, h.HasSecret, sealed, h.CreatedBy, h.CreatedAt)
	return err
}

// FindHubByID returns a hub.
func (tx *Tx) FindHubByID(ctx context.Context, id int64) (*latchkey.Hub, error) {
	h, err := tx.scanHub(tx.queryRow(ctx, `SELECT `+hubColumns+` FROM hubs WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "hub", id)
	}
	return h, nil
}

// FindHubs lists every hub by id.
func (tx *Tx) FindHubs(ctx context.Context) ([]*latchkey.Hub, error) {
	return queryAll(ctx, tx, `SELECT `+hubColumns+` FROM hubs ORDER BY id`, nil, tx.scanHub)
}

// UpdateHub writes a hub's sealed secret.
func (tx *Tx) UpdateHub(ctx context.Context, h *latchkey.Hub) error {
	sealed := h.SealedSecret
	if sealed == nil {
		sealed = []byte{}
	}
	return tx.writeOne(ctx, "hub", h.ID, `UPDATE hubs SET has_secret = ?, sealed_secret = ? WHERE id = ?`, h.HasSecret, sealed, h.ID)
}

// DeleteHub removes a hub.
func (tx *Tx) DeleteHub(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "hub", id, `DELETE FROM hubs WHERE id = ?`, id)
}
