package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// submit posts a form as a browser would (following the redirect after it) and
// returns the status and the page it ends on.
func (c *client) submit(path string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.send(req)
}

// page reads a page of the web UI.
func (c *client) page(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.send(req)
}

func (c *client) send(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func ownerCtx() context.Context {
	return latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{UserID: 1, Name: "ana", Role: latchkey.UserOwner})
}

// The lock page edits the record, keys the lock, records a rekey only with its tests,
// keeps files, and removes the lock only when asked twice.
func TestUILockPage(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()

	status, body := owner.submit("/locks/1", url.Values{"name": {"Front deadbolt"}, "model_id": {"916"}, "serial": {"SN-4471"},
		"purchased": {"2025-06-01"}, "installed": {""}, "notes": {"left-handed"}, "smartkey": {"1"}})
	if status != 200 || !strings.Contains(body, "Saved.") || !strings.Contains(body, "SN-4471") {
		t.Fatalf("editing the lock: %d\n%s", status, body)
	}
	l, _ := svc.FindLockByID(ctx, 1)
	if l.Name != "Front deadbolt" || l.SerialNumber != "SN-4471" || l.PurchasedAt == nil || !l.HasSmartKey || l.Notes != "left-handed" {
		t.Fatalf("lock after the edit: %+v", l)
	}
	if status, body = owner.submit("/locks/1", url.Values{"name": {"x"}, "purchased": {"June"}}); status != 400 || !strings.Contains(body, "YYYY-MM-DD") {
		t.Fatalf("a bad date: %d\n%s", status, body)
	}
	if l2, _ := svc.FindLockByID(ctx, 1); l2.Name != "Front deadbolt" {
		t.Fatalf("a refused edit changed the lock: %+v", l2)
	}

	old := &latchkey.Key{SiteID: 1, Label: "Old key", Keyway: "KW1", Bitting: "35242"}
	fresh := &latchkey.Key{SiteID: 1, Label: "New key", Keyway: "KW1", Bitting: "24613"}
	for _, k := range []*latchkey.Key{old, fresh} {
		if err := svc.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if status, body = owner.submit("/locks/1/key", url.Values{"key_id": {"1"}}); status != 200 || !strings.Contains(body, "Old key") {
		t.Fatalf("keying the lock: %d\n%s", status, body)
	}
	if _, err := svc.SetKeyState(ctx, old.ID, latchkey.KeyLost); err != nil {
		t.Fatal(err)
	}
	if l, _ = svc.FindLockByID(ctx, 1); l.Status != latchkey.LockExposed {
		t.Fatalf("a lost key leaves the lock %s", l.Status)
	}
	// Make before break: a rekey tried too few times, or with the door shut, is refused.
	for _, form := range []url.Values{
		{"key_id": {"2"}, "how": {"rekeyed"}, "tests": {"2"}, "both_sides": {"1"}, "door_open": {"1"}},
		{"key_id": {"2"}, "how": {"rekeyed"}, "tests": {"3"}, "both_sides": {"1"}},
		{"key_id": {"2"}, "how": {"rekeyed"}, "tests": {"three"}, "both_sides": {"1"}, "door_open": {"1"}},
	} {
		if status, body = owner.submit("/locks/1/rekey", form); status < 400 {
			t.Fatalf("rekey %v accepted: %d\n%s", form, status, body)
		}
		if l, _ = svc.FindLockByID(ctx, 1); l.Status != latchkey.LockExposed || l.KeyID != old.ID {
			t.Fatalf("a refused rekey changed the lock: %+v", l)
		}
	}
	status, body = owner.submit("/locks/1/rekey", url.Values{"key_id": {"2"}, "how": {"rekeyed"}, "tests": {"3"}, "both_sides": {"1"}, "door_open": {"1"}})
	if status != 200 || !strings.Contains(body, "Rekey recorded") {
		t.Fatalf("rekey: %d\n%s", status, body)
	}
	if l, _ = svc.FindLockByID(ctx, 1); l.Status == latchkey.LockExposed || l.KeyID != fresh.ID {
		t.Fatalf("after the rekey: %+v", l)
	}

	// A file kept with the lock comes back as a download, never as a page.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "receipt.html")
	fw.Write([]byte("<script>alert(1)</script>"))
	mw.Close()
	req, _ := http.NewRequest("POST", ui.URL()+"/locks/1/receipts", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if status, body = owner.send(req); status != 200 || !strings.Contains(body, "receipt.html") {
		t.Fatalf("keeping a file: %d\n%s", status, body)
	}
	resp, err := owner.http.Get(ui.URL() + "/locks/1/receipts/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("the kept file is served as %q, CSP %q", cd, resp.Header.Get("Content-Security-Policy"))
	}

	// Removing asks first, and says what goes with the lock.
	_, body = owner.page("/locks/1")
	if !strings.Contains(body, "1 code recorded on it") {
		t.Fatalf("the lock page does not say what removing it drops:\n%s", body)
	}
	if status, _ = owner.submit("/locks/1/delete", nil); status != 400 {
		t.Fatalf("removing without confirming: %d", status)
	}
	if _, err := svc.FindLockByID(ctx, 1); err != nil {
		t.Fatal("the lock went without confirmation")
	}
	if status, body = owner.submit("/locks/1/delete", url.Values{"confirm": {"1"}}); status != 200 || !strings.Contains(body, "Removed.") {
		t.Fatalf("removing: %d\n%s", status, body)
	}
	if _, err := svc.FindLockByID(ctx, 1); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("the lock is still there: %v", err)
	}
}

// A code gets a window or weekly hours from the codes page, read at the door's time
// zone, and the pages show its dates and hours; a refused form keeps what was typed.
func TestUICodeSchedules(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL()) // the site is in America/Chicago
	ctx := ownerCtx()
	status, body := owner.submit("/codes", url.Values{"person_id": {"1"}, "label": {"Dog walker"}, "lock_id": {"1"}, "valid": {"window"},
		"from": {"2037-01-04T09:00"}, "until": {"2037-01-08T17:30"}, "uses": {"10"}})
	if status != 200 || !strings.Contains(body, `id="new-pin"`) || !strings.Contains(body, `href="/locks/1#codes">Back to Deadbolt</a>`) {
		t.Fatalf("adding a code with a window: %d\n%s", status, body)
	}
	codes, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{})
	c := codes[len(codes)-1]
	chicago, _ := time.LoadLocation("America/Chicago")
	if c.Schedule.Kind != latchkey.ScheduleWindow || !c.Schedule.Start.Equal(time.Date(2037, 1, 4, 9, 0, 0, 0, chicago)) || c.UseLimit != 10 {
		t.Fatalf("the code's schedule: %+v, %d uses", c.Schedule, c.UseLimit)
	}
	for _, want := range []string{"2037-01-04 09:00", "2037-01-08 17:30", "America/Chicago", "up to 10 uses"} {
		if !strings.Contains(body, want) {
			t.Errorf("the codes page does not show %q", want)
		}
	}
	if _, body = owner.page("/locks/1"); !strings.Contains(body, "2037-01-08 17:30") {
		t.Errorf("the lock page does not show the window's end:\n%s", body)
	}

	status, body = owner.submit("/codes", url.Values{"person_id": {"1"}, "label": {"Cleaner"}, "lock_id": {"1"}, "valid": {"weekly"},
		"day": {"1", "3"}, "hours_from": {"08:00"}, "hours_until": {"12:00"}, "one_time": {"1"}})
	if status != 200 || !strings.Contains(body, "Mon, Wed 08:00–12:00, one use only") {
		t.Fatalf("adding a weekly code: %d\n%s", status, body)
	}

	before, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{})
	for _, form := range []url.Values{
		{"person_id": {"1"}, "label": {"Backwards"}, "lock_id": {"1"}, "valid": {"window"}, "from": {"2037-01-08T09:00"}, "until": {"2037-01-04T09:00"}},
		{"person_id": {"1"}, "label": {"No days"}, "lock_id": {"1"}, "valid": {"weekly"}, "hours_from": {"08:00"}, "hours_until": {"12:00"}},
		{"person_id": {"1"}, "label": {"Too many"}, "lock_id": {"1"}, "uses": {"-1"}},
	} {
		status, body = owner.submit("/codes", form)
		if status != 400 || !strings.Contains(body, `value="`+form.Get("label")+`"`) {
			t.Errorf("%v: %d; the refused form should come back filled in:\n%s", form, status, body)
		}
	}
	if after, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{}); len(after) != len(before) {
		t.Fatalf("refused forms added codes: %d, then %d", len(before), len(after))
	}
}

// A lock that cannot take a code now (no keypad, a low battery) is not offered for one,
// and its page says why instead of offering to add one.
func TestUINoCodeWhereRefused(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	knob := &latchkey.Lock{DoorID: 1, Name: "Side knob", ModelID: "smartkey"}
	if err := svc.CreateLock(ctx, knob); err != nil {
		t.Fatal(err)
	}
	if _, body := owner.page("/codes"); strings.Contains(body, `name="lock_id" value="2"`) {
		t.Fatal("the codes page offers the knob without a keypad")
	}
	if _, body := owner.page("/locks/2"); !strings.Contains(body, "no keypad") || strings.Contains(body, "Add a code") {
		t.Fatalf("the knob's page:\n%s", body)
	}
	conn := latchkey.Connection{Driver: "sim", Address: "front"}
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &conn}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordDeviceEvent(ctx, latchkey.DeviceEvent{Driver: "sim", Address: "front", Kind: latchkey.EventLowBattery, BatteryMV: 4300}); err != nil {
		t.Fatal(err)
	}
	if _, body := owner.page("/locks/1"); !strings.Contains(body, "replace its batteries") || strings.Contains(body, "Add a code on this lock") {
		t.Fatalf("the low-battery lock's page:\n%s", body)
	}
	if _, body := owner.page("/codes"); strings.Contains(body, `name="lock_id" value="1"`) || !strings.Contains(body, "replace its batteries") {
		t.Fatalf("the codes page offers the low-battery lock:\n%s", body)
	}
}

// The site page edits the site and its doors; a door with a lock is not removed.
func TestUISitePage(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	if status, body := owner.submit("/sites/1", url.Values{"name": {"Maple St. 12"}, "address": {"12 Maple St"}, "time_zone": {"Europe/Lisbon"}}); status != 200 || !strings.Contains(body, "Europe/Lisbon") {
		t.Fatalf("editing the site: %d\n%s", status, body)
	}
	if status, body := owner.submit("/sites/1", url.Values{"name": {"Maple"}, "time_zone": {"Mars/Olympus"}}); status != 400 || !strings.Contains(strings.ToLower(body), "time zone") {
		t.Fatalf("a bad time zone: %d\n%s", status, body)
	}
	if status, body := owner.submit("/sites/1/doors", url.Values{"name": {"Garage"}}); status != 200 || !strings.Contains(body, "Garage") {
		t.Fatalf("adding a door: %d\n%s", status, body)
	}
	if status, body := owner.submit("/doors/2", url.Values{"name": {"Garage side"}}); status != 200 || !strings.Contains(body, "Garage side") {
		t.Fatalf("renaming a door: %d\n%s", status, body)
	}
	// A door with no lock offers to add one there: the dashboard's form comes filled in.
	if _, body := owner.page("/sites/1"); !strings.Contains(body, `href="/?site=1&amp;door=Garage%20side#add-lock"`) {
		t.Fatalf("the site page does not offer a lock on the empty door:\n%s", body)
	}
	if _, body := owner.page("/?site=1&door=Garage%20side"); !strings.Contains(body, `<option value="1" selected>`) || !strings.Contains(body, `value="Garage side"`) {
		t.Fatalf("the dashboard's form is not filled in:\n%s", body)
	}
	if status, _ := owner.submit("/doors/1/delete", nil); status != 409 {
		t.Fatalf("removing a door with a lock: %d", status)
	}
	if status, _ := owner.submit("/doors/2/delete", nil); status != 200 {
		t.Fatalf("removing an empty door: %d", status)
	}
	site, _ := svc.FindSiteByID(ctx, 1)
	if site.Name != "Maple St. 12" || site.TimeZone != "Europe/Lisbon" || site.Address != "12 Maple St" {
		t.Fatalf("the site: %+v", site)
	}
	if doors, _, _ := svc.FindDoors(ctx, latchkey.DoorFilter{}, latchkey.Page{}); len(doors) != 1 {
		t.Fatalf("doors: %d", len(doors))
	}
}

// The audit page reads as sentences with names, narrowed to one lock or one person.
func TestUIAuditPage(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	_, all := owner.page("/audit")
	for _, want := range []string{"ana added lock 1 (Deadbolt)", "ana added person 1 (Ana)", `<option value="lock:1"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit page does not show %q", want)
		}
	}
	_, lock := owner.page("/audit?about=lock:1")
	if !strings.Contains(lock, "ana added lock 1 (Deadbolt)") || strings.Contains(lock, "added person") || !strings.Contains(lock, `value="lock:1" selected`) {
		t.Errorf("narrowed to the lock:\n%s", lock)
	}
	_, person := owner.page("/audit?about=person:1")
	if !strings.Contains(person, "ana added person 1 (Ana)") || strings.Contains(person, "added lock") {
		t.Errorf("narrowed to the person:\n%s", person)
	}
	for _, bad := range []string{"site:1", "lock:x", "lock:0", "lock"} {
		if status, _ := owner.page("/audit?about=" + url.QueryEscape(bad)); status != 400 {
			t.Errorf("about=%s: %d, want 400", bad, status)
		}
	}
}

// The audit page checks the chain on request; the settings page offers the export,
// which a browser's session may download.
func TestUIAuditVerifyAndExport(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	if _, body := owner.page("/audit?verify=1"); !strings.Contains(body, "The audit log is intact") {
		t.Fatalf("verifying from the audit page:\n%s", body)
	}
	if _, body := owner.page("/settings"); !strings.Contains(body, `href="/api/v1/export"`) {
		t.Fatal("the settings page does not offer the export")
	}
	if status, body := owner.page("/api/v1/export"); status != 200 || !strings.Contains(body, `"locks"`) || strings.Contains(body, `"pin"`) {
		t.Fatalf("the export from a browser session: %d\n%.300s", status, body)
	}
}

// A key is retired from its page, unless it is a lock's last way in.
func TestUIRetireKey(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	k := &latchkey.Key{SiteID: 1, Label: "Old key", Keyway: "KW1", Bitting: "35242"}
	if err := svc.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if status, body := owner.submit("/keys/1/retire", nil); status != 200 || !strings.Contains(body, "The key is retired") {
		t.Fatalf("retiring: %d\n%s", status, body)
	}
	if got, _ := svc.FindKeyByID(ctx, k.ID); got.State != latchkey.KeyRetired {
		t.Fatalf("the key is %s", got.State)
	}
}

// Refused forms leave nothing behind and take only what their fields mean: a lock added
// with a new site but no door name makes no site; weekly hours are times of day, not
// schedule text; a use limit is at least one.
func TestUIFormsTakeOnlyTheirFields(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	for _, form := range []url.Values{
		{"site_name": {"Orphan"}, "time_zone": {"UTC"}, "door": {""}, "name": {"Deadbolt"}},
		{"site_name": {"Orphan"}, "time_zone": {"UTC"}, "door": {"Front"}, "name": {""}},
		{"site_name": {"Orphan"}, "time_zone": {"UTC"}, "door": {"Front"}, "name": {"Deadbolt"}, "model_id": {"bogus"}},
		{"site_name": {"Orphan"}, "door": {"Front"}, "name": {"Deadbolt"}},
	} {
		if status, _ := owner.submit("/locks", form); status != 400 {
			t.Errorf("%v: %d, want 400", form, status)
		}
	}
	if sites, _, _ := svc.FindSites(ctx, latchkey.Page{}); len(sites) != 1 {
		t.Fatalf("refused lock forms left %d sites", len(sites))
	}
	if status, _ := owner.submit("/locks", url.Values{"site_name": {"Lake cabin"}, "time_zone": {"America/Denver"}, "door": {"Front"}, "name": {"Deadbolt"}}); status != 200 {
		t.Fatalf("adding a lock with a new site: %d", status)
	}
	if site, _ := svc.FindSiteByID(ctx, 2); site == nil || site.TimeZone != "America/Denver" {
		t.Fatalf("the new site: %+v", site)
	}
	before, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{})
	for _, form := range []url.Values{
		{"person_id": {"1"}, "label": {"Sneaky"}, "lock_id": {"1"}, "valid": {"weekly"}, "day": {"1"}, "hours_from": {"09:00-10:00, tue 00:00"}, "hours_until": {"24:00"}},
		{"person_id": {"1"}, "label": {"Zero"}, "lock_id": {"1"}, "uses": {"0"}},
	} {
		if status, _ := owner.submit("/codes", form); status != 400 {
			t.Errorf("%v: %d, want 400", form, status)
		}
	}
	if after, _, _ := svc.FindCodes(ctx, latchkey.CodeFilter{}, latchkey.Page{}); len(after) != len(before) {
		t.Fatalf("refused code forms added %d codes", len(after)-len(before))
	}
}

// A code that failed at a lock on a hub offers "Try again" on the lock's page.
func TestUIRetryFailedCode(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	conn := latchkey.Connection{Driver: "sim", Address: "front"}
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &conn}); err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: 1, Label: "Guest"}, LockIDs: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordSync(ctx, latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: 1, CodeID: c.ID, Action: latchkey.SyncPut},
		Reason: latchkey.ReasonRefusedByLock + "duplicate PIN code"}); err != nil {
		t.Fatal(err)
	}
	retry := fmt.Sprintf("/codes/%d/retry", c.ID)
	if _, body := owner.page("/locks/1"); !strings.Contains(body, `action="`+retry+`"`) || !strings.Contains(body, "duplicate PIN code") {
		t.Fatalf("the lock page does not offer to try the failed code again:\n%s", body)
	}
	if status, body := owner.submit(retry, url.Values{"lock_id": {"1"}}); status != 200 || !strings.Contains(body, "tries the code again") {
		t.Fatalf("try again: %d\n%s", status, body)
	}
	id := c.ID
	if gs, _ := svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &id}); len(gs) != 1 || gs[0].Status != latchkey.GrantPending {
		t.Fatalf("after trying again: %+v", gs)
	}
}

// Sent to sign in from a form, a visitor comes back to the dashboard, not to the form's
// address (which is no page); from a page, to that page.
func TestUISignInComesBackToAPage(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	setup(t, ui.URL())
	anon := newClient(t, ui.URL())
	anon.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for path, want := range map[string]string{"POST /locks/1/reprovision": "/login?next=%2F", "GET /locks/1": "/login?next=%2Flocks%2F1"} {
		method, p, _ := strings.Cut(path, " ")
		req, _ := http.NewRequest(method, ui.URL()+p, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := anon.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("%s anonymously: to %q, want %q", path, got, want)
		}
	}
}

// A windowed code waiting for its time reads the same on the lock's page and the codes
// page: on a hub lock it goes on through the hub, with no hand confirmation offered.
func TestUIWindowedCodeOnAHubLock(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	ctx := ownerCtx()
	conn := latchkey.Connection{Driver: "sim", Address: "front"}
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &conn}); err != nil {
		t.Fatal(err)
	}
	start, end := time.Now().Add(72*time.Hour), time.Now().Add(96*time.Hour)
	c, _, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: 1, Label: "Weekend guest",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "goes on through the hub an hour before its window opens"
	_, lock := owner.page("/locks/1")
	_, codes := owner.page("/codes")
	if !strings.Contains(lock, want) || !strings.Contains(codes, want) {
		t.Fatalf("the lock page or the codes page does not say %q", want)
	}
	if strings.Contains(lock, fmt.Sprintf(`action="/codes/%d/confirm"`, c.ID)) {
		t.Fatal("the lock page offers to confirm by hand a code the hub puts on")
	}
}
