package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
)

// listingDriver is a full fake driver whose hub lists devices, and whose locks can doze:
// a read of a slot in sleepy fails, once, as a sleepy lock's does.
type listingDriver struct {
	fullDriver
	devices []latchkey.DeviceInfo

	sleepMu sync.Mutex
	sleepy  map[int]bool
}

func (l *listingDriver) Devices(ctx context.Context) ([]latchkey.DeviceInfo, error) {
	return append([]latchkey.DeviceInfo{}, l.devices...), nil
}

func (l *listingDriver) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	l.sleepMu.Lock()
	asleep := l.sleepy[slot]
	delete(l.sleepy, slot)
	l.sleepMu.Unlock()
	if asleep {
		return "", false, latchkey.Errorf(latchkey.EUNAVAILABLE, "the lock did not answer in time")
	}
	return l.fullDriver.ReadCode(ctx, address, slot)
}

// discoveryWorld is a hub world whose Zigbee2MQTT hub lists a known Kwikset lock with
// two codes set at its keypad, a Kwikset the catalog does not know, a bulb, and a lock
// already recorded.
func discoveryWorld(t *testing.T) (*hubWorld, *listingDriver, int64) {
	t.Helper()
	made := make(chan *listingDriver, 1)
	w := newHubWorld(t, func(w *hubWorld) map[latchkey.Driver]hubFactory {
		inner := w.factory(true)
		return map[latchkey.Driver]hubFactory{latchkey.DriverZigbee2MQTT: func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
			d, closer, err := inner(ctx, hub, secret, logger)
			if err != nil {
				return nil, nil, err
			}
			ld := &listingDriver{fullDriver: d.(fullDriver), sleepy: map[int]bool{}, devices: []latchkey.DeviceInfo{
				{Address: "front", Name: "Front door", ZigbeeModel: "SMARTCODE_DEADBOLT_10", ZigbeeManufacturer: "Kwikset", Online: true, BatteryPercent: 80},
				{Address: "mystery", ZigbeeModel: "SMARTCODE_NEW_2030", ZigbeeManufacturer: "Kwikset"},
				{Address: "bulb", ZigbeeModel: "TRADFRI bulb E27", ZigbeeManufacturer: "IKEA of Sweden", Online: true},
				{Address: "known", ZigbeeModel: "SMARTCODE_DEADBOLT_10", ZigbeeManufacturer: "Kwikset"},
			}}
			made <- ld
			return ld, closer, nil
		}}
	})
	w.svc.Readers, w.svc.Listers = w.hubs.Readers(), w.hubs.Listers()
	ctx := owner
	if _, err := w.svc.CreateHub(ctx, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"}); err != nil {
		t.Fatal(err)
	}
	d := <-made
	mustDo(t, d.SetCode(ctx, "front", 2, "246810"))
	mustDo(t, d.SetCode(ctx, "front", 5, "135790"))
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	mustDo(t, w.svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	mustDo(t, w.svc.CreateDoor(ctx, door))
	mustDo(t, w.svc.CreateLock(ctx, &latchkey.Lock{DoorID: door.ID, Name: "Known", ModelID: "914", Connection: latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "known"}}))
	return w, d, door.ID
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if latchkey.ErrorCode(err) != code {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
}

// Locks a hub knows that no record is connected to are offered with their identified
// model (a Kwikset the catalog does not know, for a person to name; never a bulb, never a
// recorded lock); adopting one records it on a door and reads every slot through the
// proxy: the codes set at the keypad become foreign codes, never written over, and no
// code is put on the lock until the survey, broken off by a dozing lock, is taken up
// again and ends. Adopting a found code makes it a Latchkey code with the PIN read from
// the lock. Viewers list but do not adopt; bad requests say what to do; no PIN is in any
// answer or the audit log.
func TestDiscoveredLocksAdopted(t *testing.T) {
	w, d, doorID := discoveryWorld(t)
	ctx := owner
	viewer := latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{Name: "val", Role: latchkey.UserViewer})

	found, err := w.svc.DiscoveredLocks(viewer)
	mustDo(t, err)
	if len(found) != 1 || found[0].Driver != latchkey.DriverZigbee2MQTT || found[0].Error != "" || len(found[0].Locks) != 2 {
		t.Fatalf("discovered %+v", found)
	}
	front, mystery := found[0].Locks[0], found[0].Locks[1]
	if front.Device.Address != "front" || front.ModelID != "914" || mystery.Device.Address != "mystery" || mystery.ModelID != "" {
		t.Fatalf("identified %+v and %+v", front, mystery)
	}
	_, err = w.svc.AdoptDiscovered(viewer, latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", DoorID: doorID, Name: "Front"})
	wantCode(t, "a viewer adopting", err, latchkey.EFORBIDDEN)

	for _, bad := range []struct {
		req  latchkey.DiscoveredAdoption
		code string
		says string
	}{
		{latchkey.DiscoveredAdoption{Driver: "sim", Address: "front", DoorID: doorID, Name: "F"}, latchkey.EINVALID, "zwavejs"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: " ", DoorID: doorID, Name: "F"}, latchkey.EINVALID, "hub discovered"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", Name: "F"}, latchkey.EINVALID, "door"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", DoorID: 99, Name: "F"}, latchkey.ENOTFOUND, ""},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "back", DoorID: doorID, Name: "F"}, latchkey.ENOTFOUND, "hub discovered"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "bulb", DoorID: doorID, Name: "F"}, latchkey.EINVALID, "not a lock"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "mystery", DoorID: doorID, Name: "F"}, latchkey.EINVALID, "choose it"},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "mystery", DoorID: doorID, Name: "F", ModelID: "999x"}, latchkey.ENOTFOUND, ""},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "known", DoorID: doorID, Name: "F"}, latchkey.ECONFLICT, ""},
		{latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", DoorID: doorID, Name: ""}, latchkey.EINVALID, "name"},
	} {
		_, err := w.svc.AdoptDiscovered(ctx, bad.req)
		if latchkey.ErrorCode(err) != bad.code || !strings.Contains(strings.ToLower(latchkey.ErrorMessage(err)), strings.ToLower(bad.says)) {
			t.Errorf("adopting %+v: got %v, want %s saying %q", bad.req, err, bad.code, bad.says)
		}
	}

	// The lock dozes at slot 4: the lock is adopted, its survey pending where it stopped.
	d.sleepMu.Lock()
	d.sleepy[4] = true
	d.sleepMu.Unlock()
	l, err := w.svc.AdoptDiscovered(ctx, latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", DoorID: doorID, Name: "Front deadbolt"})
	mustDo(t, err)
	if l.ModelID != "914" || l.Connection.Address != "front" || !l.Survey.Pending() || l.Survey.Read != 3 || l.Survey.Found != 1 || !strings.Contains(l.Survey.Reason, "Slot 4") {
		t.Fatalf("adopted %+v", l)
	}
	p := &latchkey.Person{Name: "Sam", Role: latchkey.RoleOwner}
	mustDo(t, w.svc.CreatePerson(ctx, p))
	_, _, err = w.svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, LockIDs: []int64{l.ID}})
	wantCode(t, "a code on a lock not surveyed", err, latchkey.EUNSAFE)
	if tasks, err := w.svc.SyncTasks(ctx, l.ID); err != nil || len(tasks) != 0 {
		t.Fatalf("the engine would change a lock not surveyed: %v %v", tasks, err)
	}
	_, err = w.svc.SurveyLock(viewer, l.ID)
	wantCode(t, "a viewer surveying", err, latchkey.EFORBIDDEN)

	l, err = w.svc.SurveyLock(ctx, l.ID)
	mustDo(t, err)
	if l.Survey.State != latchkey.SurveyDone || l.Survey.Read != w.svc.Models.CodeCapacity("914") || l.Survey.Found != 2 || l.Survey.Reason != "" {
		t.Fatalf("surveyed %+v", l.Survey)
	}
	_, err = w.svc.SurveyLock(ctx, l.ID)
	wantCode(t, "surveying again", err, latchkey.ECONFLICT)
	foreign, err := w.svc.FindForeignCodes(ctx, l.ID)
	mustDo(t, err)
	if len(foreign) != 2 || foreign[0].Slot != 2 || foreign[1].Slot != 5 || foreign[0].Source != latchkey.SourceRF {
		t.Fatalf("foreign codes %+v", foreign)
	}
	found, err = w.svc.DiscoveredLocks(ctx)
	mustDo(t, err)
	if len(found[0].Locks) != 1 || found[0].Locks[0].Device.Address != "mystery" {
		t.Fatalf("an adopted lock is still offered: %+v", found)
	}

	// A new code goes in a free slot, never over a code found.
	c, _, err := w.svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, LockIDs: []int64{l.ID}})
	mustDo(t, err)
	grants, err := w.svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &c.ID})
	mustDo(t, err)
	if len(grants) != 1 || grants[0].Slot == 2 || grants[0].Slot == 5 {
		t.Fatalf("the new code's slot: %+v", grants)
	}
	tasks, err := w.svc.SyncTasks(ctx, l.ID)
	mustDo(t, err)
	for _, task := range tasks {
		if task.Slot == 2 || task.Slot == 5 {
			t.Fatalf("the engine would write over a code found: %+v", task)
		}
	}

	// Adopting a code found reads its PIN from the lock.
	adopted, err := w.svc.AdoptForeignCode(ctx, latchkey.Adoption{LockID: l.ID, Slot: 2, PersonID: p.ID, Label: "Keypad code"})
	mustDo(t, err)
	pin, err := w.svc.RevealCode(ctx, adopted.ID)
	mustDo(t, err)
	if pin != "246810" {
		t.Fatal("the adopted code is not the one read from the lock")
	}

	entries, _, err := w.svc.FindAuditEntries(ctx, latchkey.AuditFilter{}, latchkey.Page{Limit: 1000})
	mustDo(t, err)
	all, _ := json.Marshal(entries)
	listing, _ := json.Marshal(found)
	for _, secret := range []string{"246810", "135790"} {
		if strings.Contains(string(all), secret) || strings.Contains(string(listing), secret) {
			t.Fatal("a PIN found on the lock is in the audit log or the listing")
		}
	}
	if !strings.Contains(string(all), "lock.adopt") || !strings.Contains(string(all), "lock.surveyed") {
		t.Fatal("the adoption and the survey are not in the audit log")
	}
}

// A Zigbee IEEE address is hex, typed in either case: adopting one in capitals records
// the hub's spelling (the one its events carry), and a lock connected in capitals is not
// offered again.
func TestDiscoveredIEEECase(t *testing.T) {
	w, d, doorID := discoveryWorld(t)
	ctx := owner
	d.devices = append(d.devices,
		latchkey.DeviceInfo{Address: "0x000d6f00000000aa", ZigbeeModel: "SMARTCODE_DEADBOLT_10", ZigbeeManufacturer: "Kwikset"},
		latchkey.DeviceInfo{Address: "0x000d6f00000000bb", ZigbeeModel: "SMARTCODE_DEADBOLT_10", ZigbeeManufacturer: "Kwikset"})
	mustDo(t, w.svc.CreateLock(ctx, &latchkey.Lock{DoorID: doorID, Name: "Typed", ModelID: "914", Connection: latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000D6F00000000BB"}}))
	found, err := w.svc.DiscoveredLocks(ctx)
	mustDo(t, err)
	var offered []string
	for _, dl := range found[0].Locks {
		offered = append(offered, dl.Device.Address)
	}
	if strings.Join(offered, " ") != "front mystery 0x000d6f00000000aa" {
		t.Fatalf("offered %v; want front, mystery and the lock not connected in any case", offered)
	}
	l, err := w.svc.AdoptDiscovered(ctx, latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000D6F00000000AA", DoorID: doorID, Name: "Side"})
	mustDo(t, err)
	if l.Connection.Address != "0x000d6f00000000aa" {
		t.Fatalf("adopted at %q; want the hub's spelling", l.Connection.Address)
	}
	_, err = w.svc.AdoptDiscovered(ctx, latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f00000000AA", DoorID: doorID, Name: "Again"})
	wantCode(t, "adopting it twice, in another case", err, latchkey.ECONFLICT)
}

// A hub whose driver cannot list devices is listed with the reason; a server with no
// hub running says to ask the one that does.
func TestDiscoveredLocksWithoutLister(t *testing.T) {
	w := newHubWorld(t, func(w *hubWorld) map[latchkey.Driver]hubFactory {
		return map[latchkey.Driver]hubFactory{latchkey.DriverZigbee2MQTT: w.factory(true)}
	})
	if found, err := w.svc.DiscoveredLocks(owner); err != nil || len(found) != 0 {
		t.Fatalf("no hub at all: %v %v; want nothing found", found, err)
	}
	if _, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"}); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.DiscoveredLocks(owner)
	wantCode(t, "no listers", err, latchkey.EUNAVAILABLE)
	w.svc.Readers, w.svc.Listers = w.hubs.Readers(), w.hubs.Listers()
	eventually(t, "the hub's driver runs", func() bool { return len(w.drivers()) == 1 && w.hubs.HubStatuses()[1].Running })
	found, err := w.svc.DiscoveredLocks(owner)
	mustDo(t, err)
	if len(found) != 1 || !strings.Contains(found[0].Error, "cannot list the devices") {
		t.Fatalf("a hub that cannot list: %+v", found)
	}
}

// The discovery commands say what to give, and on a data directory alone (where no hub
// runs) say to ask the server.
func TestHubDiscoveryCommands(t *testing.T) {
	data := []string{"--data", t.TempDir()}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"hub", "adopt", "zigbee2mqtt", "0x01", "--name", "Front"}, "--door ID"},
		{[]string{"hub", "adopt", "wifi", "0x01", "--door", "1", "--name", "Front"}, "zwavejs or zigbee2mqtt"},
		{[]string{"hub", "adopt", "zigbee2mqtt", "0x01", "--door", "1"}, "--name NAME"},
		{[]string{"hub", "adopt", "zigbee2mqtt"}, "accepts 2 arg"},
		{[]string{"hub", "survey", "abc"}, "not a lock id"},
		{[]string{"hub", "adopt", "zigbee2mqtt", "0x01", "--door", "1", "--name", "Front"}, "--server URL"},
	} {
		st, stdout, stderr := runMain(t, "", append(c.args, data...)...)
		if st == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: %d %q %q; want a failure saying %q", c.args, st, stdout, stderr, c.want)
		}
	}
	// With a hub recorded, adopting on the data directory says to ask the server, not
	// to add the hub that is there.
	if st, _, stderr := runMain(t, "", append([]string{"hub", "add", "zigbee2mqtt", "mqtt://broker:1883"}, data...)...); st != 0 {
		t.Fatalf("hub add: %q", stderr)
	}
	st, _, stderr := runMain(t, "", append([]string{"hub", "adopt", "zigbee2mqtt", "0x01", "--door", "1", "--name", "Front"}, data...)...)
	if st == 0 || !strings.Contains(stderr, "server that runs the hubs") || strings.Contains(stderr, "hub add") {
		t.Errorf("adopting on a data directory with a hub: %d %q", st, stderr)
	}
	if _, _, err := runMain(t, "", append([]string{"hub", "rm", "1"}, data...)...); err != "" {
		t.Fatalf("hub rm: %q", err)
	}
	// With no hub at all, nothing is found, and it says how to add one.
	if st, stdout, stderr := runMain(t, "", append([]string{"hub", "discovered"}, data...)...); st != 0 || !strings.Contains(stdout, "latchkey hub add") {
		t.Errorf("hub discovered with no hub: %d %q %q", st, stdout, stderr)
	}
}

// A survey read in parts says to read the rest, not to wake a lock that answers; one
// that stopped answering says to wake it; one with no reason says how to go on.
func TestPrintSurvey(t *testing.T) {
	for _, tt := range []struct {
		reason, want, mustNot string
	}{
		{"Read in parts: slots 1 to 7 are read; read the rest (latchkey hub survey 4).", "read the rest (latchkey hub survey 4)", "wake"},
		{"Slot 8 did not answer (timeout): wake the lock (touch its keypad), then read the rest.", "wake the lock", ""},
		{"", "read them with latchkey hub survey 4.", "wake"},
	} {
		var b strings.Builder
		printSurvey(&b, &latchkey.Lock{ID: 4, Survey: latchkey.SlotSurvey{State: latchkey.SurveyPending, Read: 7, Reason: tt.reason}})
		out := b.String()
		if !strings.Contains(out, tt.want) || tt.mustNot != "" && strings.Contains(out, tt.mustNot) || !strings.Contains(out, "No code is put on it until they are.") {
			t.Errorf("reason %q: printed %q", tt.reason, out)
		}
	}
}

// The listing says how to add a lock only when there is one to add.
func TestPrintDiscoveredFooter(t *testing.T) {
	m := &Main{}
	var none, some strings.Builder
	m.printDiscovered(&none, []latchkey.HubDiscovery{{Driver: latchkey.DriverZigbee2MQTT, Locks: []latchkey.DiscoveredLock{}}, {Driver: latchkey.DriverZWaveJS, Error: "not reached"}})
	if strings.Contains(none.String(), "hub adopt") || !strings.Contains(none.String(), "every lock it knows is recorded") {
		t.Errorf("nothing to add: %q", none.String())
	}
	m.printDiscovered(&some, []latchkey.HubDiscovery{{Driver: latchkey.DriverZigbee2MQTT, Locks: []latchkey.DiscoveredLock{{Device: latchkey.DeviceInfo{Address: "0x01", Online: true}, Candidates: []string{"910", "912"}}}}})
	if !strings.Contains(some.String(), "hub adopt") || !strings.Contains(some.String(), "910 or 912") {
		t.Errorf("a lock to add: %q", some.String())
	}
}
