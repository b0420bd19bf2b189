package main_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	main "github.com/latchkey/latchkey/cmd/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// serveData serves a data directory's records on a local port, as 'latchkey serve'
// would, and returns the server's URL and the flags that name the data directory.
func serveData(t *testing.T) (url string, local []string) {
	t.Helper()
	url, local, _ = serveDataService(t)
	return url, local
}

// serveDataService is serveData, with the service the server runs on, to play a hub's
// reports into.
func serveDataService(t *testing.T) (url string, local []string, svc *latchkey.Service) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := vault.Open(filepath.Join(dir, "vault.key"))
	if err != nil {
		t.Fatal(err)
	}
	svc = &latchkey.Service{Store: db, Vault: v, Models: main.Rules(), Clock: latchkey.SystemClock{}}
	srv := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0"}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv.URL(), []string{"--data", dir}, svc
}

// tokenFor makes an account with a role next to the data and returns the flags that
// work through the server with its token.
func tokenFor(t *testing.T, url string, local []string, name, role string) []string {
	t.Helper()
	if r := runCLI(t, "a long enough password\n", append([]string{"user", "add", name, "--role", role}, local...)...); r.status != 0 {
		t.Fatal(r.stderr)
	}
	var tok struct{ Token string }
	decode(t, runCLI(t, "", append([]string{"token", "create", "cli", "--user", name, "--json"}, local...)...), &tok)
	return []string{"--server", url, "--token", tok.Token}
}

// A code's validity is printed in full: a window's dates in the site's time zone, weekly
// hours with their days and hours, the use limit, one use only (issue 9, item 3).
func TestCodeValidityCLI(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
	for _, s := range [][]string{{"site", "add", "Maple Street", "--tz", "America/Chicago"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Ana", "--confirmed"},
		// Times without a zone are the site's: 15:00 in Chicago is 21:00 UTC in December.
		{"code", "add", "--person", "1", "--lock", "1", "Guest", "--window", "2036-12-04T15:00,2036-12-06T17:00:00Z", "--uses", "4"},
		{"code", "add", "--person", "1", "--lock", "1", "Cleaner", "--weekly", "mon-fri 09:00-17:00, sat 10:00-14:00"},
		{"code", "add", "--person", "1", "--lock", "1", "Plumber", "--one-time"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	ls := cli("code", "ls").stdout
	for _, want := range []string{"VALID", "always",
		"from 2036-12-04 15:00 until 2036-12-06 11:00 (America/Chicago), up to 4 uses",
		"Mon–Fri 09:00–17:00; Sat 10:00–14:00", "always, one use only"} {
		if !strings.Contains(ls, want) {
			t.Errorf("code ls lacks %q:\n%s", want, ls)
		}
	}
	show := cli("code", "show", "2")
	for _, want := range []string{"Code 2: Guest, held by Ana (person 1)", "Valid:   from 2036-12-04 15:00 until 2036-12-06 11:00 (America/Chicago), up to 4 uses",
		"Deadbolt (lock 1)", "pending"} {
		if show.status != 0 || !strings.Contains(show.stdout, want) {
			t.Errorf("code show 2 lacks %q: %d\n%s%s", want, show.status, show.stdout, show.stderr)
		}
	}
	var view struct {
		Code struct {
			Label    string
			UseLimit int `json:"use_limit"`
		}
		Valid  string
		Grants []struct{ Slot int }
	}
	decode(t, cli("code", "show", "3", "--json"), &view)
	if view.Code.Label != "Cleaner" || view.Valid != "Mon–Fri 09:00–17:00; Sat 10:00–14:00" || len(view.Grants) != 1 || view.Grants[0].Slot != 3 {
		t.Errorf("code show 3 --json: %+v", view)
	}
	if r := cli("code", "show", "9"); r.status != 1 || !strings.Contains(r.stderr, "No code 9") {
		t.Errorf("code show 9: %d %q", r.status, r.stderr)
	}
	// The lock's record says the hours, not "weekly hours".
	if r := cli("lock", "show", "1"); !strings.Contains(r.stdout, "Cleaner (Ana), pending, valid Mon–Fri 09:00–17:00; Sat 10:00–14:00") {
		t.Errorf("lock show:\n%s", r.stdout)
	}
	// Mistakes in the validity flags say what was wrong.
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--window", "2036-12-06T11:00,2036-12-04T15:00"}, 1, "swap or fix the dates"},
		{[]string{"--window", "2036-12-04T15:00"}, 1, "START,END"},
		{[]string{"--window", "2020-01-04T15:00,2020-01-06T11:00"}, 1, "The window ended on 2020-01-06 11:00 (America/Chicago); give dates in the future"},
		{[]string{"--weekly", "weekdays 9-5"}, 1, "not a day"},
		{[]string{"--window", "2036-12-04T15:00,2036-12-06T11:00", "--weekly", "mon 09:00-10:00"}, 2, "window"},
		{[]string{"--one-time", "--uses", "3"}, 1, "one-time code cannot have a use limit"},
		{[]string{"--uses", "-1"}, 1, "Use limit"},
	} {
		args := append([]string{"code", "add", "--person", "1", "--lock", "1", "X"}, c.args...)
		if r := cli(args...); r.status != c.status || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %d %q; want %d and %q", c.args, r.status, r.stderr, c.status, c.want)
		}
	}
}

// 'code check --lock' checks a code against a recorded lock's model and the codes on it,
// compared sealed in the domain: 0 when the lock can take it, 3 when it breaks a rule or
// collides, 2 for bad usage. Which code it collides with is said only to someone who may
// reveal codes (issue 9, item 4).
func TestCodeCheckLock(t *testing.T) {
	url, local := serveData(t)
	owner := tokenFor(t, url, local, "ana", "owner")
	installer := tokenFor(t, url, local, "ivo", "installer")
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "910"}, {"lock", "add", "--door", "1", "Knob"},
		{"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Ana's code", "--pin", "135790", "--confirmed"}} {
		if r := runCLI(t, "", append(s, local...)...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	for _, where := range []struct {
		name  string
		flags []string
	}{{"local", local}, {"server", owner}} {
		cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, where.flags...)...) }
		for _, c := range []struct {
			name, code string
			status     int
			want       string
		}{
			{"OK", "802461", 0, "Lock 1 (Deadbolt) can take the code"},
			{"ErrDuplicate", "135790", 3, "same as code 1 (Ana's code)"},
			{"ErrSameButtons", "246809", 3, "same buttons as code 1 (Ana's code)"}, // 1-2 3-4 5-6 7-8 9-0, button for button
			{"ErrRules", "123456789", 3, "4 to 8 digits"},
		} {
			r := cli("", "code", "check", "--lock", "1", c.code)
			if r.status != c.status || !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Errorf("%s/%s: %d %q %q; want %d and %q", where.name, c.name, r.status, r.stdout, r.stderr, c.status, c.want)
			}
			if strings.Contains(r.stdout+r.stderr, "135790") {
				t.Errorf("%s/%s: the answer repeats a code", where.name, c.name)
			}
		}
		// From standard input, and as JSON: the verdict, or the refusal as an error.
		var v latchkey.CodeVerdict
		r := cli("802461\n", "code", "check", "--lock", "1", "-", "--json")
		decode(t, r, &v)
		if r.status != 0 || !v.OK || v.LockID != 1 || v.ModelID != "910" || v.Collides {
			t.Errorf("%s: --json verdict: %d %s", where.name, r.status, r.stdout)
		}
		r = cli("135790\n", "code", "check", "--lock", "1", "-", "--json")
		var refusal struct {
			Error struct{ Code, Message string }
		}
		decode(t, r, &refusal)
		if r.status != 3 || refusal.Error.Code != "unsafe" || !strings.Contains(refusal.Error.Message, "code 1") {
			t.Errorf("%s: --json refusal: %d %s", where.name, r.status, r.stdout)
		}
		if r := cli("", "code", "check", "--lock", "2", "8024"); r.status != 1 || !strings.Contains(r.stderr, "unidentified") {
			t.Errorf("%s: an unidentified lock: %d %q", where.name, r.status, r.stderr)
		}
	}
	// An installer, who may not reveal codes, has the code checked against the model's
	// rules only: a check that said "collides" could be asked for every PIN.
	r := runCLI(t, "", append([]string{"code", "check", "--lock", "1", "246809"}, installer...)...)
	if r.status != 0 || !strings.Contains(r.stdout, "checked only when the code is added") || strings.Contains(r.stdout+r.stderr, "Ana") || strings.Contains(r.stdout+r.stderr, "code 1") {
		t.Errorf("an installer's check: %d %q %q", r.status, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", append([]string{"audit", "ls"}, local...)...); r.status != 0 || strings.Contains(r.stdout, "revealed") {
		t.Errorf("a check was recorded as a reveal: %d\n%s", r.status, r.stdout)
	}
	// Bad usage.
	for _, args := range [][]string{
		{"code", "check", "1234"},
		{"code", "check", "--lock", "1", "--model", "910", "1234"},
		{"code", "check", "--lock", "1", "--existing", "1357", "1234"},
		{"code", "check", "--lock", "one", "1234"},
	} {
		if r := runCLI(t, "", append(args, local...)...); r.status != 2 || !strings.Contains(r.stderr, "--help") {
			t.Errorf("%v: %d %q; want 2", args, r.status, r.stderr)
		}
	}
}

// zeros is a source of randomness that always draws the first choice, so that a
// generator's answer can be known beforehand.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// withinOneCut reports whether two bittings differ in at most one cut.
func withinOneCut(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	diff := 0
	for i := range a {
		if a[i] != b[i] {
			diff++
		}
	}
	return diff <= 1
}

// 'key generate --site' keeps clear of the bittings recorded on the site's keys, which
// are compared sealed, in the domain (issue 9, item 4).
func TestKeyGenerateSite(t *testing.T) {
	url, local := serveData(t)
	tokenFor(t, url, local, "ana", "owner") // the first account is an owner's
	installer := tokenFor(t, url, local, "ivo", "installer")
	for _, s := range [][]string{{"site", "add", "Home"}, {"site", "add", "Cabin"}} {
		if r := runCLI(t, "", append(s, local...)...); r.status != 0 {
			t.Fatal(r.stderr)
		}
	}
	// A generator that draws the same bitting every time: the first it gives is then
	// recorded on the home, and asked again with --site it must give another.
	first := func(args ...string) string {
		t.Helper()
		m := main.NewMain()
		m.Random = zeros{}
		var out, errOut strings.Builder
		m.Stdout, m.Stderr = &out, &errOut
		if status := m.Run(context.Background(), append(args, local...)); status != 0 {
			t.Fatalf("%v: %d %s", args, status, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	used := first("key", "generate")
	if r := runCLI(t, "", append([]string{"key", "add", "--site", "1", "--bitting", used, "Front key"}, local...)...); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if again := first("key", "generate"); again != used {
		t.Fatalf("the generator without --site gave %s, then %s; the test needs it to repeat itself", used, again)
	}
	if got := first("key", "generate", "--site", "1"); got == "" || withinOneCut(got, used) {
		t.Fatalf("key generate --site 1 gave %q beside the recorded %s", got, used)
	}
	if got := first("key", "generate", "--site", "2"); got != used {
		t.Fatalf("the cabin avoided the home's key: %q", got)
	}
	// Many keys, lost ones too, and many bittings.
	var bs struct{ Bittings []string }
	decode(t, runCLI(t, "", append([]string{"key", "generate", "--count", "20", "--apart", "--json"}, local...)...), &bs)
	recorded := append([]string{used}, bs.Bittings...)
	for i, b := range bs.Bittings {
		if r := runCLI(t, "", append([]string{"key", "add", "--site", "1", "--bitting", b, "Key"}, local...)...); r.status != 0 {
			t.Fatal(r.stderr)
		}
		if i%5 == 0 {
			if r := runCLI(t, "", append([]string{"key", "lost", strconv.Itoa(i + 2)}, local...)...); r.status != 0 {
				t.Fatal(r.stderr)
			}
		}
	}
	var gen struct {
		Bittings []string
		SiteID   int64 `json:"site_id"`
		Avoided  int   `json:"keys_avoided"`
	}
	r := runCLI(t, "", append([]string{"key", "generate", "--site", "1", "--count", "500", "--json"}, local...)...)
	decode(t, r, &gen)
	if r.status != 0 || len(gen.Bittings) != 500 || gen.SiteID != 1 || gen.Avoided != 21 {
		t.Fatalf("key generate --site 1 --count 500: %d %d bittings, %+v", r.status, len(gen.Bittings), gen.Avoided)
	}
	for _, b := range gen.Bittings {
		for _, u := range recorded {
			if withinOneCut(b, u) {
				t.Fatalf("generated %s, within one cut of the recorded %s", b, u)
			}
		}
	}
	if r := runCLI(t, "", append([]string{"key", "generate", "--site", "1"}, local...)...); r.status != 0 || !strings.Contains(r.stderr, "Clear of the 21 keys recorded on site 1") {
		t.Errorf("key generate --site 1: %d %q", r.status, r.stderr)
	}
	// Through the server, as an installer: a few at a time, each request recorded.
	remote := func(args ...string) result { return runCLI(t, "", append(args, installer...)...) }
	if r := remote("key", "generate", "--site", "1", "--count", "3"); r.status != 0 || len(strings.Fields(r.stdout)) != 3 {
		t.Errorf("an installer's three bittings: %d %q %q", r.status, r.stdout, r.stderr)
	} else {
		for _, b := range strings.Fields(r.stdout) {
			for _, u := range recorded {
				if withinOneCut(b, u) {
					t.Errorf("generated through the server %s, within one cut of the recorded %s", b, u)
				}
			}
		}
	}
	if r := remote("key", "generate", "--site", "1", "--count", "4"); r.status != 1 || !strings.Contains(r.stderr, "at most 3") {
		t.Errorf("an installer's four bittings: %d %q", r.status, r.stderr)
	}
	if r := runCLI(t, "", append([]string{"audit", "ls", "--action", "key.generate"}, local...)...); !strings.Contains(r.stdout, "ivo generated new bittings clear of the keys of site 1 (Home)") {
		t.Errorf("the installer's generation is not in the audit log:\n%s", r.stdout)
	}
	if r := runCLI(t, "", append([]string{"key", "generate", "--site", "9"}, local...)...); r.status != 1 || !strings.Contains(r.stderr, "No site with id 9") {
		t.Errorf("key generate --site 9: %d %q", r.status, r.stderr)
	}
}

// 'lock rm' refuses a lock with codes on it or a connection, saying what it has and how
// to go on, exit 3; --force removes it; an exposed lock stays even forced (issue 9,
// item 7).
func TestLockRm(t *testing.T) {
	url, local := serveData(t)
	owner := tokenFor(t, url, local, "ana", "owner")
	cli := func(args ...string) result { return runCLI(t, "", append(args, local...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--driver", "zwavejs", "--address", "7"},
		{"lock", "add", "--door", "1", "Back", "--model", "916"}, {"lock", "add", "--door", "1", "Shed", "--model", "916"},
		{"lock", "add", "--door", "1", "Garage", "--model", "smartkey"},
		{"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1,2", "Ana", "--confirmed"},
		{"code", "add", "--person", "1", "--lock", "1", "Guest"},
		{"key", "add", "--site", "1", "--bitting", "35242", "Garage key"}, {"lock", "set", "4", "--key", "1"}, {"key", "lost", "1"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	r := cli("lock", "rm", "1")
	for _, want := range []string{"refused as unsafe", "Lock 1 (Deadbolt) still has 2 codes on it", "connected to zwavejs (address 7)", "latchkey lock rm 1 --force"} {
		if r.status != 3 || !strings.Contains(r.stderr, want) {
			t.Errorf("lock rm 1: %d %q; want 3 and %q", r.status, r.stderr, want)
		}
	}
	if r := cli("lock", "rm", "2"); r.status != 3 || !strings.Contains(r.stderr, "1 code on it") || strings.Contains(r.stderr, "connected") {
		t.Errorf("lock rm 2 (a code, no connection): %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "show", "1"); r.status != 0 {
		t.Fatalf("the refused lock is gone: %q", r.stderr)
	}
	if r := cli("lock", "rm", "4", "--force"); r.status != 3 || !strings.Contains(r.stderr, "exposed") {
		t.Errorf("lock rm 4 --force (exposed): %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "rm", "3"); r.status != 0 || !strings.Contains(r.stdout, "Removed lock 3") {
		t.Errorf("lock rm 3 (nothing on it): %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "rm", "1", "--force"); r.status != 0 {
		t.Errorf("lock rm 1 --force: %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "show", "1"); r.status != 1 {
		t.Errorf("lock 1 after lock rm --force: %d", r.status)
	}
	// Through the server, the same refusal, and --force as ?force=true.
	remote := func(args ...string) result { return runCLI(t, "", append(args, owner...)...) }
	if r := remote("lock", "rm", "2"); r.status != 3 || !strings.Contains(r.stderr, "1 code on it") {
		t.Errorf("lock rm 2 through the server: %d %q", r.status, r.stderr)
	}
	if r := remote("lock", "rm", "2", "--force"); r.status != 0 {
		t.Errorf("lock rm 2 --force through the server: %d %q", r.status, r.stderr)
	}
	if r := cli("audit", "ls", "--action", "lock.delete"); strings.Count(r.stdout, "removed lock") != 3 {
		t.Errorf("audit of the removals:\n%s", r.stdout)
	}
}

// Programming is refused where it cannot or must not happen (issue 9, item 3): on a lock
// with no keypad; on a low battery, with the battery swap as the way forward (exit 3);
// on a lock reset behind Latchkey's back (exit 3). An installer who chooses a PIN that
// collides learns that it does, never with which code (item 4).
func TestProgrammingRefusedCLI(t *testing.T) {
	url, local, svc := serveDataService(t)
	tokenFor(t, url, local, "ana", "owner")
	installer := tokenFor(t, url, local, "ivo", "installer")
	cli := func(args ...string) result { return runCLI(t, "", append(args, local...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"lock", "add", "--door", "1", "Side knob", "--model", "smartkey"},
		{"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Ana's code", "--pin", "135790", "--confirmed"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	if r := cli("code", "add", "--person", "1", "--lock", "2", "Knob code"); r.status == 0 || !strings.Contains(r.stderr, "no keypad") {
		t.Errorf("a code on the knob: %d %q", r.status, r.stderr)
	}

	r := runCLI(t, "", append([]string{"code", "add", "--person", "1", "--lock", "1", "Mine", "--pin", "135790"}, installer...)...)
	if r.status == 0 || !strings.Contains(r.stderr, "collides") || strings.Contains(r.stderr, "Ana's code") || strings.Contains(r.stderr, "code 1") {
		t.Errorf("an installer's colliding PIN: %d %q; want a refusal that names no code", r.status, r.stderr)
	}

	// The lock reports through its hub (here, straight into the records the server uses).
	ctx := latchkey.NewContextWithActor(context.Background(), "hub")
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	report := func(kind latchkey.EventKind, mv int) {
		t.Helper()
		if _, err := svc.RecordDeviceEvent(ctx, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: kind, BatteryMV: mv}); err != nil {
			t.Fatal(err)
		}
	}
	report(latchkey.EventLowBattery, 4600)
	r = cli("code", "add", "--person", "1", "--lock", "1", "Guest")
	if r.status != 3 || !strings.Contains(r.stderr, "replace its batteries") {
		t.Errorf("a code on a low battery: %d %q; want 3 and the battery swap", r.status, r.stderr)
	}
	if r := cli("code", "check", "--lock", "1", "802461"); r.status != 3 || !strings.Contains(r.stdout+r.stderr, "replace its batteries") {
		t.Errorf("code check on a low battery: %d %q %q; want 3, as adding it would be refused", r.status, r.stdout, r.stderr)
	}
	if r := cli("lock", "ls"); !strings.Contains(r.stdout, "battery low") {
		t.Errorf("lock ls does not say the battery is low:\n%s", r.stdout)
	}
	report(latchkey.EventLocked, 6100) // fresh batteries
	if r := cli("code", "add", "--person", "1", "--lock", "1", "Guest"); r.status != 0 {
		t.Errorf("a code after the battery swap: %d %q", r.status, r.stderr)
	}
	report(latchkey.EventResetLocally, 0)
	r = cli("code", "add", "--person", "1", "--lock", "1", "Cleaner")
	if r.status != 3 || !strings.Contains(r.stderr, "quarantined") {
		t.Errorf("a code on a quarantined lock: %d %q; want 3", r.status, r.stderr)
	}
}
