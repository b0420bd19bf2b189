package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// A code's page shows where it stands on each lock, with its problem, reason, next
// attempt and warnings, and offers "try again"; the lock's page shows the same and the
// codes set at the lock in slots Latchkey does not own, which can be cleared or adopted
// there and through the API.
func TestUICodePageAndUnownedSlots(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	conn := latchkey.Connection{Driver: "sim", Address: "front"}
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &conn}); err != nil {
		t.Fatal(err)
	}
	guest, _, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: 1, Label: "Guest"}, LockIDs: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(5 * time.Minute)
	if _, err := svc.RecordSync(ctx, latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: 1, CodeID: guest.ID, Action: latchkey.SyncPut},
		Reason: "failed to set: the hub was busy", NextAttempt: &next}); err != nil {
		t.Fatal(err)
	}
	path := "/codes/" + strconvID(guest.ID)
	status, body := owner.page(path)
	for _, want := range []string{"failed at the lock", "failed to set", "the hub was busy", "next attempt", `action="` + path + `/retry"`, `href="/locks/1"`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("the code's page lacks %q (%d):\n%s", want, status, body)
		}
	}
	// A code whose window is days away says when the hub puts it on, by its site's lead.
	start := time.Now().Add(72 * time.Hour)
	end := start.Add(time.Hour)
	later, _, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: 1, Label: "Later",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := owner.page("/codes/" + strconvID(later.ID)); !strings.Contains(body, "goes on through the hub an hour before its window opens") {
		t.Fatalf("a windowed code's page does not say when it goes on:\n%s", body)
	}
	if status, _ := owner.page("/codes/999"); status != 404 {
		t.Fatalf("a code that does not exist: %d", status)
	}

	// Code 1 changed at the keypad: a conflict, shown on the lock's page with its warning.
	keypad := func(kind latchkey.EventKind, slot int) {
		t.Helper()
		if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: "sim", Address: "front", Kind: kind, Source: latchkey.SourceKeypad, Slot: slot}); err != nil {
			t.Fatal(err)
		}
	}
	keypad(latchkey.EventCodeChanged, 1)
	keypad(latchkey.EventCodeAdded, 3)
	status, body = owner.page("/locks/1")
	for _, want := range []string{"changed at the lock", "the change made at the lock is in effect", `href="/codes/1"`,
		"Codes Latchkey does not own", `action="/locks/1/slots/3/adopt"`, `action="/locks/1/slots/3/clear"`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("the lock's page lacks %q (%d):\n%s", want, status, body)
		}
	}
	if _, body := owner.page("/people/1"); !strings.Contains(body, "changed at the lock") || !strings.Contains(body, `href="/codes/1"`) {
		t.Fatalf("the person's page does not show the conflict:\n%s", body)
	}

	// Cleared from the page: listed as being cleared until the engine empties it.
	if status, body := owner.submit("/locks/1/slots/3/clear", nil); status != 200 || !strings.Contains(body, "being cleared") {
		t.Fatalf("clear: %d\n%s", status, body)
	}
	if _, err := svc.RecordSync(ctx, latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: 1, Slot: 3, Action: latchkey.SyncClear}, Done: true}); err != nil {
		t.Fatal(err)
	}
	if _, body := owner.page("/locks/1"); strings.Contains(body, "Codes Latchkey does not own") {
		t.Fatal("a cleared slot is still listed")
	}

	// Set again at the keypad, then adopted: through the API, a missing label is refused;
	// from the page, with the PIN given (the test server reads no lock).
	keypad(latchkey.EventCodeAdded, 3)
	var slots []latchkey.ForeignCode
	owner.must("GET", "/api/v1/locks/1/slots", nil, &slots, 200)
	if len(slots) != 1 || slots[0].Slot != 3 {
		t.Fatalf("slots: %+v", slots)
	}
	owner.must("POST", "/api/v1/locks/1/slots/3/adopt", lkhttp.AdoptRequest{PersonID: 1}, nil, 400)
	owner.must("POST", "/api/v1/locks/1/slots/x/adopt", lkhttp.AdoptRequest{PersonID: 1, Label: "Keypad"}, nil, 400)
	status, body = owner.submit("/locks/1/slots/3/adopt", url.Values{"person_id": {"1"}, "label": {"Keypad"}, "pin": {"246810"}})
	if status != 200 || !strings.Contains(body, "Adopted") || !strings.Contains(body, "written, not read back") || strings.Contains(body, "246810") {
		t.Fatalf("adopt: %d\n%s", status, body)
	}
	owner.must("GET", "/api/v1/locks/1/slots", nil, &slots, 200)
	if len(slots) != 0 {
		t.Fatalf("still listed after adoption: %+v", slots)
	}
	var grants []latchkey.Grant
	owner.must("GET", "/api/v1/grants?lock=1", nil, &grants, 200)
	var conflict *latchkey.Grant
	for i := range grants {
		if grants[i].CodeID == 1 {
			conflict = &grants[i]
		}
	}
	if conflict == nil || conflict.Problem != latchkey.ProblemModifiedAtLock || len(conflict.Warnings) != 1 {
		t.Fatalf("the API's grants: %+v", grants)
	}
}

// The event stream tells where a code stands when it changes, as a message with no id
// (it is not a stored event).
func TestEventStreamCodeStatus(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	owner.must("PATCH", "/api/v1/locks/1", map[string]any{"connection": map[string]any{"driver": "sim", "address": "front"}}, nil, 200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/events/stream", nil)
	resp, err := owner.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for range 2 { // the opening comment and its blank line
		if !lines.Scan() {
			t.Fatal("the stream did not open")
		}
	}
	if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: "sim", Address: "front", Kind: latchkey.EventCodeDeleted, Source: latchkey.SourceKeypad, Slot: 1}); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		line, ok := strings.CutPrefix(lines.Text(), "data: ")
		if !ok {
			continue
		}
		var e latchkey.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind != latchkey.EventCodeStatus {
			continue
		}
		if e.Grant == nil || e.Grant.CodeID != 1 || e.Grant.Status != latchkey.GrantFailed || e.Grant.Problem != latchkey.ProblemRemovedAtLock || e.ID != 0 {
			t.Fatalf("code status: %+v %+v", e, e.Grant)
		}
		return
	}
	t.Fatal("the stream ended without the code's status")
}

func strconvID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
