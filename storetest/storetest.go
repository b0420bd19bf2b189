// Package storetest is the contract suite every latchkey.Store must pass. Each store's
// tests call Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
	"github.com/latchkey/latchkey/vault"
)

// Opener returns a new empty store; the suite closes it.
type Opener func(t *testing.T) latchkey.Store

// fixedClock is a clock that moves only when told.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// models is a stand-in for the catalog and key rules: the suite tests stores, not
// rules. Codes are 4 to 8 digits, unique, three a lock; bittings are five digits.
type models struct{}

func (models) CheckModel(id string) error {
	switch id {
	case "916", "914", "910", "smartkey":
		return nil
	}
	return latchkey.Errorf(latchkey.ENOTFOUND, "No model %q.", id)
}

func (models) CheckCode(modelID, pin string, existing []string) error {
	if len(pin) < 4 || len(pin) > 8 || strings.Trim(pin, "0123456789") != "" {
		return latchkey.Errorf(latchkey.EINVALID, "Codes are 4 to 8 digits.")
	}
	if slices.Contains(existing, pin) {
		return latchkey.Errorf(latchkey.EINVALID, "The code is the same as another on the lock.")
	}
	return nil
}

func (m models) GenerateCode(modelID string, existing []string) (string, error) {
	for i := 100000; ; i += 7919 {
		if pin := strconv.Itoa(i); m.CheckCode(modelID, pin, existing) == nil {
			return pin, nil
		}
	}
}

func (models) CodeCapacity(modelID string) int {
	if modelID == "smartkey" {
		return 0 // no keypad
	}
	return 3
}

func (models) CheckBitting(keyway, bitting string) (string, error) {
	if len(bitting) != 5 || strings.Trim(bitting, "123456") != "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "A bitting is five depths from 1 to 6.")
	}
	return bitting, nil
}

// GenerateBittings takes the valid bittings in order, skipping those within one cut of
// an avoided one (and, with apart, of one already taken), so that a test knows which
// come first.
func (m models) GenerateBittings(modelID string, n int, apart bool, avoid []string) ([]string, error) {
	near := func(a string, set []string) bool {
		for _, b := range set {
			diff := 0
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					diff++
				}
			}
			if len(a) == len(b) && diff <= 1 {
				return true
			}
		}
		return false
	}
	var out []string
	for i := 11112; i <= 66666 && len(out) < n; i++ {
		b := strconv.Itoa(i)
		if _, err := m.CheckBitting("KW1", b); err != nil || near(b, avoid) || (apart && near(b, out)) {
			continue
		}
		out = append(out, b)
	}
	if len(out) < n {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "Only %d bittings are clear of the avoided ones.", len(out))
	}
	return out, nil
}

// NewService returns a service on store with a fixed clock, a stand-in catalog and a
// real vault in a temporary directory.
func NewService(t testing.TB, store latchkey.Store) *latchkey.Service {
	return NewServiceAt(t, store, filepath.Join(t.TempDir(), "vault.key"))
}

// NewServiceAt is NewService with the vault key file at vaultPath (created when
// missing), for tests that open one store several times, as a restart does: the audit
// log verifies only with the key it was written with.
func NewServiceAt(t testing.TB, store latchkey.Store, vaultPath string) *latchkey.Service {
	v, err := vault.Open(vaultPath)
	if err != nil {
		t.Fatal(err)
	}
	return &latchkey.Service{Store: store, Vault: v, Models: models{}, Clock: &fixedClock{t: time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)}}
}

// Run runs the whole contract suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, latchkey.Store)
	}{
		{"Sites", testSites},
		{"Doors", testDoors},
		{"Locks", testLocks},
		{"DeleteLock", testDeleteLock},
		{"People", testPeople},
		{"Paging", testPaging},
		{"AuditChain", testAuditChain},
		{"AuditAuthenticated", testAuditAuthenticated},
		{"Rollback", testRollback},
		{"ViewIsReadOnly", testViewReadOnly},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ConcurrentFailures", testConcurrentFailures},
		{"Keys", testKeys},
		{"GenerateBittings", testGenerateBittings},
		{"BittingsSealed", testBittingsSealed},
		{"CollisionOracle", testCollisionOracle},
		{"RecordLimits", testRecordLimits},
		{"IDsNeverReused", testIDsNeverReused},
		{"Programmable", testProgrammable},
		{"AttentionEverywhere", testAttentionEverywhere},
		{"AuditRelated", testAuditRelated},
		{"Codes", testCodes},
		{"CheckCode", testCheckCode},
		{"NoLockout", testNoLockout},
		{"WaysIn", testWaysIn},
		{"SealedPINBoundToRecord", testSealedPINBoundToRecord},
		{"LostKeyExposes", testLostKeyExposes},
		{"ServiceLogAndReceipts", testServiceLogAndReceipts},
		{"AccountsAndRoles", testAccountsAndRoles},
		{"Tokens", testTokens},
		{"AccountManagement", testAccountManagement},
		{"DeviceEvents", testDeviceEvents},
		{"Agreement", testAgreement},
		{"LateFailureRerun", testLateFailureRerun},
		{"Updates", testUpdates},
		{"RevokePerson", testRevokePerson},
		{"LostCopyStaysLost", testLostCopyStaysLost},
		{"ExposedNeedsNewKey", testExposedNeedsNewKey},
		{"NoKeypadModel", testNoKeypadModel},
		{"EndedWindow", testEndedWindow},
		{"PersonKept", testPersonKept},
		{"OneLockPerConnection", testOneLockPerConnection},
		{"ReceiptNames", testReceiptNames},
		{"LockStatusFilter", testLockStatusFilter},
		{"SyncColumns", testSyncColumns},
		{"ListFilters", testListFilters},
		{"ZigbeeAddressSpelling", testZigbeeAddressSpelling},
		{"SyncStatuses", testSyncStatuses},
		{"SyncDeviceReports", testSyncDeviceReports},
		{"Webhooks", testWebhooks},
		{"WebhookOutbox", testWebhookOutbox},
		{"WebhookAttempts", testWebhookAttempts},
		{"WebhookDelays", testWebhookDelays},
		{"WebhookOutOfHours", testWebhookOutOfHours},
		{"ProcedureRuns", testProcedureRuns},
		{"Hubs", testHubs},
		{"DiscoverySurvey", testDiscoverySurvey},
		{"HubSecretsResealed", testHubSecretsResealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := open(t)
			defer store.Close()
			tt.fn(t, store)
		})
	}
}

func ctx() context.Context {
	return latchkey.NewContextWithActor(context.Background(), "tester")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// seed creates a site with a door and returns both.
func seed(t *testing.T, s *latchkey.Service) (*latchkey.Site, *latchkey.Door) {
	t.Helper()
	site := &latchkey.Site{Name: "Maple Street", TimeZone: "America/Chicago"}
	must(t, s.CreateSite(ctx(), site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front door"}
	must(t, s.CreateDoor(ctx(), door))
	return site, door
}

func testSites(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site := &latchkey.Site{Name: "  Maple Street ", Address: "12 Maple St", TimeZone: "America/Chicago"}
	must(t, s.CreateSite(ctx(), site))
	if site.ID == 0 || site.Name != "Maple Street" {
		t.Fatalf("created %+v", site)
	}
	got, err := s.FindSiteByID(ctx(), site.ID)
	must(t, err)
	if got.Name != site.Name || got.Address != site.Address || got.TimeZone != site.TimeZone || !got.CreatedAt.Equal(site.CreatedAt) ||
		got.CodeLeadMinutes != latchkey.DefaultCodeLeadMinutes {
		t.Fatalf("got %+v, want %+v with the default lead time", got, site)
	}
	lead := 90
	_, err = s.UpdateSite(ctx(), site.ID, latchkey.SiteUpdate{CodeLeadMinutes: &lead})
	must(t, err)
	if got, err = s.FindSiteByID(ctx(), site.ID); err != nil || got.CodeLeadMinutes != 90 {
		t.Fatalf("lead time set to 90 minutes reads %+v, %v", got, err)
	}
	_, err = s.FindSiteByID(ctx(), 9999)
	wantCode(t, err, latchkey.ENOTFOUND)
	wantCode(t, s.CreateSite(ctx(), &latchkey.Site{Name: "", TimeZone: "UTC"}), latchkey.EINVALID)

	door := &latchkey.Door{SiteID: site.ID, Name: "Back"}
	must(t, s.CreateDoor(ctx(), door))
	wantCode(t, s.DeleteSite(ctx(), site.ID), latchkey.ECONFLICT)
	must(t, s.DeleteDoor(ctx(), door.ID))
	must(t, s.DeleteSite(ctx(), site.ID))
	wantCode(t, s.DeleteSite(ctx(), site.ID), latchkey.ENOTFOUND)
}

func testDoors(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site, door := seed(t, s)
	wantCode(t, s.CreateDoor(ctx(), &latchkey.Door{SiteID: site.ID, Name: "Front door"}), latchkey.ECONFLICT)
	wantCode(t, s.CreateDoor(ctx(), &latchkey.Door{SiteID: 777, Name: "x"}), latchkey.ENOTFOUND)
	other := &latchkey.Site{Name: "Oak", TimeZone: "UTC"}
	must(t, s.CreateSite(ctx(), other))
	must(t, s.CreateDoor(ctx(), &latchkey.Door{SiteID: other.ID, Name: "Front door"}))
	doors, total, err := s.FindDoors(ctx(), latchkey.DoorFilter{SiteID: &site.ID}, latchkey.Page{})
	must(t, err)
	if total != 1 || len(doors) != 1 || doors[0].ID != door.ID {
		t.Fatalf("doors of site %d: %d %+v", site.ID, total, doors)
	}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		door.Name = "Front entry"
		return tx.UpdateDoor(ctx(), door)
	}))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		d, err := tx.FindDoorByID(ctx(), door.ID)
		if err == nil && d.Name != "Front entry" {
			return fmt.Errorf("door name %q after update", d.Name)
		}
		return err
	}))
}

func testLocks(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site, door := seed(t, s)
	bought := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	installed := bought.AddDate(0, 0, 10)
	l := &latchkey.Lock{DoorID: door.ID, Name: "Deadbolt", ModelID: "916", HasSmartKey: true, SerialNumber: "SN-1",
		PurchasedAt: &bought, InstalledAt: &installed, Notes: "spare key in the shed",
		Connection: latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: "7"}}
	must(t, s.CreateLock(ctx(), l))
	if l.Status != latchkey.LockOK {
		t.Fatalf("status %q, want ok", l.Status)
	}
	got, err := s.FindLockByID(ctx(), l.ID)
	must(t, err)
	if got.Name != l.Name || got.ModelID != "916" || !got.HasSmartKey || got.SerialNumber != "SN-1" ||
		got.PurchasedAt == nil || !got.PurchasedAt.Equal(bought) || got.InstalledAt == nil || !got.InstalledAt.Equal(installed) ||
		got.Notes != l.Notes || got.Connection != l.Connection {
		t.Fatalf("got %+v, want %+v", got, l)
	}
	// An unidentified lock is recorded as such (invariant 4); an unknown model is refused.
	knob := &latchkey.Lock{DoorID: door.ID, Name: "Knob"}
	must(t, s.CreateLock(ctx(), knob))
	if knob.Status != latchkey.LockUnidentified {
		t.Fatalf("status %q, want unidentified", knob.Status)
	}
	wantCode(t, s.CreateLock(ctx(), &latchkey.Lock{DoorID: door.ID, Name: "X", ModelID: "be469"}), latchkey.ENOTFOUND)
	wantCode(t, s.CreateLock(ctx(), &latchkey.Lock{DoorID: door.ID, Name: "Deadbolt"}), latchkey.ECONFLICT)

	model := "smartkey"
	updated, err := s.UpdateLock(ctx(), knob.ID, latchkey.LockUpdate{ModelID: &model})
	must(t, err)
	if updated.Status != latchkey.LockOK || updated.ModelID != "smartkey" {
		t.Fatalf("after identifying: %+v", updated)
	}
	status := latchkey.LockOK
	locks, total, err := s.FindLocks(ctx(), latchkey.LockFilter{SiteID: &site.ID, Status: &status}, latchkey.Page{})
	must(t, err)
	if total != 2 || len(locks) != 2 {
		t.Fatalf("locks of the site: %d", total)
	}
	must(t, s.DeleteLock(ctx(), knob.ID, false))
	_, err = s.FindLockByID(ctx(), knob.ID)
	wantCode(t, err, latchkey.ENOTFOUND)
	wantCode(t, s.DeleteDoor(ctx(), door.ID), latchkey.ECONFLICT)
}

func testPeople(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	p := &latchkey.Person{Name: "Ana Ruiz", Role: latchkey.RoleTenant, Email: "ana@example.com"}
	must(t, s.CreatePerson(ctx(), p))
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		p.Phone = "555-0100"
		return tx.UpdatePerson(ctx(), p)
	}))
	people, total, err := s.FindPeople(ctx(), latchkey.Page{})
	must(t, err)
	if total != 1 || people[0].Phone != "555-0100" || people[0].Role != latchkey.RoleTenant {
		t.Fatalf("people: %+v", people)
	}
	wantCode(t, s.CreatePerson(ctx(), &latchkey.Person{Name: "Bo", Role: "boss"}), latchkey.EINVALID)
	must(t, s.DeletePerson(ctx(), p.ID))
	wantCode(t, s.DeletePerson(ctx(), p.ID), latchkey.ENOTFOUND)
}

func testPaging(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	for i := range 25 {
		must(t, s.CreatePerson(ctx(), &latchkey.Person{Name: fmt.Sprintf("Person %02d", i), Role: latchkey.RoleGuest}))
	}
	page, total, err := s.FindPeople(ctx(), latchkey.Page{Offset: 20, Limit: 10})
	must(t, err)
	if total != 25 || len(page) != 5 || page[0].Name != "Person 20" {
		t.Fatalf("page: total %d, %d items, first %+v", total, len(page), page[0])
	}
}

// Every change appends one audit entry in the same transaction, chained by hashes.
func testAuditChain(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	_, door := seed(t, s)
	must(t, s.CreateLock(ctx(), &latchkey.Lock{DoorID: door.ID, Name: "Deadbolt", ModelID: "916"}))
	n, err := s.VerifyAuditLog(ctx())
	must(t, err)
	if n != 3 {
		t.Fatalf("%d audit entries, want 3 (site, door, lock)", n)
	}
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		entries, err := tx.FindAudit(ctx(), 0, 10)
		if err != nil {
			return err
		}
		if entries[2].Action != "lock.create" || entries[2].Actor != "tester" || entries[2].PrevHash != entries[1].Hash {
			return fmt.Errorf("third entry %+v", entries[2])
		}
		return latchkey.VerifyAudit(nil, entries)
	}))
}

// A change that fails leaves nothing behind: neither the record nor its audit entry.
func testRollback(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	boom := errors.New("boom")
	err := store.Update(ctx(), func(tx latchkey.Tx) error {
		if err := tx.CreatePerson(ctx(), &latchkey.Person{Name: "Ghost", Role: latchkey.RoleGuest}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	_, total, err := s.FindPeople(ctx(), latchkey.Page{})
	must(t, err)
	if total != 0 {
		t.Fatalf("%d people after a rolled-back change", total)
	}
	// A duplicate door fails inside the change: no audit entry for it.
	_, door := seed(t, s)
	wantCode(t, s.CreateDoor(ctx(), &latchkey.Door{SiteID: door.SiteID, Name: door.Name}), latchkey.ECONFLICT)
	n, err := s.VerifyAuditLog(ctx())
	must(t, err)
	if n != 2 {
		t.Fatalf("%d audit entries, want 2", n)
	}
}

func testViewReadOnly(t *testing.T, store latchkey.Store) {
	err := store.View(ctx(), func(tx latchkey.Tx) error {
		return tx.CreatePerson(ctx(), &latchkey.Person{Name: "Sneaky", Role: latchkey.RoleGuest})
	})
	if !errors.Is(err, latchkey.ErrReadOnly) {
		t.Fatalf("a write inside View returned %v, want the read-only refusal", err)
	}
	err = store.View(ctx(), func(tx latchkey.Tx) error {
		_, n, err := tx.FindPeople(ctx(), latchkey.Page{})
		if err == nil && n != 0 {
			err = fmt.Errorf("%d people after a refused write", n)
		}
		return err
	})
	must(t, err)
}

// Changes that fail beside changes that succeed, in one shared transaction (group
// commit): each failure leaves nothing behind, each success is whole, and the audit
// chain counts exactly the successes. The writer is held busy while they all queue, so
// that they are gathered into one batch; the store's counters show they were.
func testConcurrentFailures(t *testing.T, store latchkey.Store) {
	stats, ok := store.(interface{ WriteStats() groupcommit.Stats })
	if !ok {
		t.Fatalf("%T does not report its group commits (WriteStats)", store)
	}
	s := NewService(t, store)
	site, _ := seed(t, s) // two audited changes
	boom := errors.New("boom")

	// A caller that gives up before its change begins gets its context's error.
	cancelled, cancel := context.WithCancel(ctx())
	cancel()
	if err := s.CreateDoor(cancelled, &latchkey.Door{SiteID: site.ID, Name: "Never"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled change returned %v", err)
	}

	running, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- store.Update(ctx(), func(latchkey.Tx) error {
			close(running)
			<-release
			return nil
		})
	}()
	<-running
	before := stats.WriteStats()
	const n = 60
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("Door %d", i)
			switch i % 4 {
			case 0, 1: // succeeds
				results[i] = s.CreateDoor(ctx(), &latchkey.Door{SiteID: site.ID, Name: name})
			case 2: // writes, then fails inside the change
				results[i] = store.Update(ctx(), func(tx latchkey.Tx) error {
					if err := tx.CreateDoor(ctx(), &latchkey.Door{SiteID: site.ID, Name: name}); err != nil {
						return err
					}
					return boom
				})
			case 3: // fails on a constraint inside the change: the seeded door's name again
				results[i] = s.CreateDoor(ctx(), &latchkey.Door{SiteID: site.ID, Name: "Front door"})
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); stats.WriteStats().Waiting < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d changes queued behind the busy writer", stats.WriteStats().Waiting, n)
		}
	}
	close(release)
	wg.Wait()
	must(t, <-holder)
	// Queued behind the busy writer they are gathered into one transaction, or a few
	// if the scheduler was slow to queue some; what matters is that failures and
	// successes shared one.
	after := stats.WriteStats()
	batches, changes, mixed := after.Batches-before.Batches, after.Changes-before.Changes, after.Mixed-before.Mixed
	if changes != n || batches >= n/2 || mixed < 1 {
		t.Fatalf("the %d queued changes ran as %d changes in %d transactions, %d of them with failures beside successes; want them sharing transactions",
			n, changes, batches, mixed)
	}
	for i, err := range results {
		switch {
		case i%4 < 2 && err != nil:
			t.Errorf("change %d failed: %v", i, err)
		case i%4 == 2 && !errors.Is(err, boom):
			t.Errorf("change %d returned %v, want its own error", i, err)
		case i%4 == 3 && latchkey.ErrorCode(err) != latchkey.ECONFLICT:
			t.Errorf("change %d returned %v, want a conflict", i, err)
		}
	}
	doors, total, err := s.FindDoors(ctx(), latchkey.DoorFilter{}, latchkey.Page{Limit: 100})
	must(t, err)
	if want := 1 + n/2; total != want {
		t.Fatalf("%d doors after %d successes beside %d failures, want %d", total, n/2, n/2, want)
	}
	for _, d := range doors {
		var i int
		if _, err := fmt.Sscanf(d.Name, "Door %d", &i); err == nil && i%4 >= 2 {
			t.Errorf("%s was kept, but its change failed", d.Name)
		}
	}
	count, err := s.VerifyAuditLog(ctx())
	must(t, err)
	if count != 2+n/2 {
		t.Fatalf("%d audit entries, want %d (the seed and the %d successes)", count, 2+n/2, n/2)
	}
}

// Concurrent changes all land, and the audit chain stays whole.
func testConcurrentWrites(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.CreatePerson(ctx(), &latchkey.Person{Name: fmt.Sprintf("P%d", i), Role: latchkey.RoleGuest})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	n, err := s.VerifyAuditLog(ctx())
	must(t, err)
	if n != 40 {
		t.Fatalf("%d audit entries after 40 concurrent changes", n)
	}
}
