package zigbee2mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// Taking a lock off Zigbee2MQTT and adding it again, for the factory reset (invariant
// 6), through Zigbee2MQTT's bridge requests (protocols.md §2.4): device/remove by IEEE
// address, and permit_join while the person presses the lock's button A four times.
// These are the only bridge requests the driver makes.

var _ latchkey.HubPairing = (*Driver)(nil)

// maxPermitJoin is the longest permit_join Zigbee2MQTT takes, in seconds.
const maxPermitJoin = 254

// maxResponseBytes bounds a bridge response the driver reads.
const maxResponseBytes = 64 << 10

// bridgeResponse is a bridge/response message.
type bridgeResponse struct {
	Status      string          `json:"status"`
	Error       string          `json:"error"`
	Transaction json.RawMessage `json:"transaction"`
}

// parseResponse reads a bridge/response message and its transaction.
func parseResponse(payload []byte) (bridgeResponse, string, error) {
	var r bridgeResponse
	if len(payload) > maxResponseBytes || json.Unmarshal(payload, &r) != nil {
		return r, "", fmt.Errorf("a bridge response is not a JSON object")
	}
	if r.Status != "ok" && r.Status != "error" {
		return r, "", fmt.Errorf("a bridge response has status %q, neither ok nor error", clip(r.Status))
	}
	var tx string
	if json.Unmarshal(r.Transaction, &tx) != nil {
		return r, "", fmt.Errorf("a bridge response has no transaction of the driver's")
	}
	r.Error = cleanText(r.Error)
	return r, tx, nil
}

// onResponse hands a bridge response to the request waiting for it; call it with mu
// held. Responses to requests of other clients (the frontend's) are not the driver's.
func (d *Driver) onResponse(payload []byte) {
	r, tx, err := parseResponse(payload)
	if err != nil {
		return
	}
	if ch := d.pending[tx]; ch != nil {
		delete(d.pending, tx)
		ch <- r
	}
}

// request makes a bridge request and waits for Zigbee2MQTT's answer.
func (d *Driver) request(ctx context.Context, name string, body map[string]any) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tx := "latchkey-" + hex.EncodeToString(b)
	body["transaction"] = tx
	ch := make(chan bridgeResponse, 1)
	d.mu.Lock()
	if d.pending == nil {
		d.pending = map[string]chan bridgeResponse{}
	}
	d.pending[tx] = ch
	base := d.base
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, tx)
		d.mu.Unlock()
	}()
	if err := d.publish(ctx, base+"/bridge/request/"+name, body); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r.Status == "error" {
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT refused %s: %s", name, clip(r.Error))
		}
		return nil
	case <-ctx.Done():
		return ctxErr(ctx, "Zigbee2MQTT's answer to "+name)
	}
}

// listed reports whether Zigbee2MQTT's device list names the lock at address.
func (d *Driver) isListed(address string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byIEEE[address] != nil
}

// awaitListed waits until the device list names the lock, or no longer does.
func (d *Driver) awaitListed(ctx context.Context, address string, want bool, what string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for d.isListed(address) != want {
		select {
		case <-ctx.Done():
			return ctxErr(ctx, what)
		case <-tick.C:
		}
	}
	return nil
}

// checkPairingAddress checks a lock's address and that Zigbee2MQTT runs.
func (d *Driver) checkPairingAddress(address string) error {
	if !validIEEE(address) {
		return latchkey.Errorf(latchkey.EINVALID, "%q is not a Zigbee IEEE address (0x and 16 hex digits).", clip(address))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bridgeOnline == nil || !*d.bridgeOnline || !d.listed {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT at %s (base topic %s) is not running; try again once it is.", d.Broker, d.base)
	}
	return nil
}

// RemoveFromHub asks Zigbee2MQTT to remove the lock (device/remove, not forced: the
// coordinator asks the lock to leave, with nothing to press) and waits until its device
// list no longer names it. A lock it does not list is done.
func (d *Driver) RemoveFromHub(ctx context.Context, address string) error {
	if err := d.checkPairingAddress(address); err != nil {
		return err
	}
	if !d.isListed(address) {
		return nil
	}
	if err := d.request(ctx, "device/remove", map[string]any{"id": address, "force": false, "block": false}); err != nil {
		return err
	}
	return d.awaitListed(ctx, address, false, "Zigbee2MQTT to drop the lock from its device list")
}

// AddToHub has Zigbee2MQTT permit joins (permit_join, for as long as ctx allows, up to
// its 254 s) and waits until its device list names the lock again, once a person has
// pressed button A four times; then it stops permitting joins. A lock it lists is done.
func (d *Driver) AddToHub(ctx context.Context, address string) error {
	if err := d.checkPairingAddress(address); err != nil {
		return err
	}
	if d.isListed(address) {
		return nil
	}
	secs := maxPermitJoin
	if dl, ok := ctx.Deadline(); ok {
		secs = min(secs, max(1, int(time.Until(dl)/time.Second)))
	}
	// Zigbee2MQTT 2.x reads time (0 closes joins) and ignores value; 1.x reads value,
	// and time while value is true: the same request serves both.
	if err := d.request(ctx, "permit_join", map[string]any{"value": true, "time": secs}); err != nil {
		return err
	}
	err := d.awaitListed(ctx, address, true, "the lock to join Zigbee2MQTT (press its button A four times)")
	// Joins stay closed as they were, whether the lock joined or not.
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := d.request(stop, "permit_join", map[string]any{"value": false, "time": 0}); serr != nil && err == nil {
		d.Logger.Warn("could not stop Zigbee2MQTT permitting joins", "error", serr)
	}
	return err
}
