package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	main "github.com/latchkey/latchkey/cmd/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// Webhooks from the command line, on local data: added with a secret shown once (made,
// or read from standard input), listed with a hint only, paused, removed; bad input
// refused as usage or with what to do.
func TestWebhookCLILocal(t *testing.T) {
	flags := []string{"--data", t.TempDir()}
	cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, flags...)...) }
	var added struct {
		Webhook latchkey.Webhook `json:"webhook"`
		Secret  string           `json:"secret"`
	}
	decode(t, cli("", "webhook", "add", "https://hooks.example.com/in", "--event", "code.revoked_used", "--event", "lock.jammed,lock.tampered", "--json"), &added)
	if !strings.HasPrefix(added.Secret, "whsec_") || len(added.Webhook.Events) != 3 || added.Webhook.ID != 1 {
		t.Fatalf("added %+v", added)
	}
	r := cli("my-own-secret-of-enough-length\n", "webhook", "add", "http://10.0.0.5/hook", "--event", "all", "--secret-stdin")
	if r.status != 0 || !strings.Contains(r.stdout, "shown this once: my-own-secret-of-enough-length") || !strings.Contains(r.stdout, "gets every event") {
		t.Fatalf("add with a chosen secret: %d %q %q", r.status, r.stdout, r.stderr)
	}
	r = cli("", "webhook", "ls")
	if r.status != 0 || strings.Contains(r.stdout, added.Secret) || strings.Contains(r.stdout, "my-own-secret") ||
		!strings.Contains(r.stdout, added.Webhook.SecretHint) || !strings.Contains(r.stdout, "…ngth") {
		t.Fatalf("ls:\n%s", r.stdout)
	}
	if r := cli("", "webhook", "show", "1"); r.status != 0 || !strings.Contains(r.stdout, "No deliveries yet") || strings.Contains(r.stdout, added.Secret) {
		t.Fatalf("show: %q %q", r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		stdin  string
		args   []string
		status int
		says   string
	}{
		{"", []string{"webhook", "add", "https://example.com/x"}, 2, "at least one event"},
		{"", []string{"webhook", "add", "https://example.com/x", "--event", "door.opened"}, 2, "not a webhook event"},
		{"", []string{"webhook", "add", "ftp://example.com/x", "--event", "all"}, 1, "https://"},
		{"", []string{"webhook", "add", "https://a:b@example.com/x", "--event", "all"}, 1, "user name or password"},
		{"short\n", []string{"webhook", "add", "https://example.com/x", "--event", "all", "--secret-stdin"}, 1, "at least 16"},
		{"", []string{"webhook", "show", "x"}, 1, "not a webhook id"},
		{"", []string{"webhook", "show", "9"}, 1, "webhook"},
		{"", []string{"webhook", "replay", "9"}, 1, "delivery"},
	} {
		r := cli(tc.stdin, tc.args...)
		if r.status != tc.status || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("%v: %d %q; want %d saying %q", tc.args, r.status, r.stderr, tc.status, tc.says)
		}
	}
	if r := cli("", "webhook", "disable", "1"); r.status != 0 || !strings.Contains(r.stdout, "Webhook 1 is disabled") {
		t.Fatalf("disable: %q %q", r.stdout, r.stderr)
	}
	if r := cli("", "webhook", "rm", "2"); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli("", "webhook", "ls", "--json"); !strings.Contains(r.stdout, `"total": 1`) || !strings.Contains(r.stdout, `"enabled": false`) {
		t.Fatalf("ls after: %s", r.stdout)
	}
}

// Through a server: an owner's token manages webhooks and sees the delivery log, and
// replays; a viewer's token is refused.
func TestWebhookCLIAgainstServer(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := vault.Open(filepath.Join(dir, "vault.key"))
	svc := &latchkey.Service{Store: db, Vault: v, Models: main.Rules(), Clock: latchkey.SystemClock{}}
	srv := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0"}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	local := []string{"--data", dir}
	for _, u := range [][]string{{"ana", "owner"}, {"bo", "viewer"}} {
		if r := runCLI(t, "a long enough password\n", append([]string{"user", "add", u[0], "--role", u[1]}, local...)...); r.status != 0 {
			t.Fatal(r.stderr)
		}
	}
	token := func(user string) string {
		var tok struct{ Token string }
		decode(t, runCLI(t, "", append([]string{"token", "create", "ci", "--user", user, "--json"}, local...)...), &tok)
		return tok.Token
	}
	owner, viewer := token("ana"), token("bo")
	cli := func(tok string, args ...string) result {
		return runCLI(t, "", append(args, "--server", srv.URL(), "--token", tok)...)
	}
	if r := cli(owner, "webhook", "add", "https://hooks.example.com/in", "--event", "lock.jammed"); r.status != 0 || !strings.Contains(r.stdout, "whsec_") {
		t.Fatalf("add through the server: %d %q %q", r.status, r.stdout, r.stderr)
	}
	if r := cli(viewer, "webhook", "ls"); r.status != 1 || !strings.Contains(r.stderr, "A viewer may not manage settings") {
		t.Fatalf("a viewer's ls: %d %q", r.status, r.stderr)
	}
	// An event of a connected lock writes a delivery (no sender runs here: it waits).
	ctx := latchkey.NewContextWithActor(context.Background(), "ana")
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	must(t, svc.CreateDoor(ctx, door))
	must(t, svc.CreateLock(ctx, &latchkey.Lock{DoorID: door.ID, Name: "Front", ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}))
	_, err = svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed})
	must(t, err)
	if r := cli(owner, "webhook", "show", "1"); r.status != 0 || !strings.Contains(r.stdout, "lock.jammed") || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("show through the server: %q %q", r.stdout, r.stderr)
	}
	if r := cli(owner, "webhook", "replay", "1"); r.status != 0 || !strings.Contains(r.stdout, "Delivery 2 sends the lock.jammed of delivery 1 again") {
		t.Fatalf("replay through the server: %q %q", r.stdout, r.stderr)
	}
	if r := cli(owner, "webhook", "show", "1", "--json"); !strings.Contains(r.stdout, `"replay_of": 1`) || !strings.Contains(r.stdout, `"deliveries_total": 2`) {
		t.Fatalf("show after the replay: %s", r.stdout)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
