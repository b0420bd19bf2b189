package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/webhook"
)

// The demo boots a home on the twins, serves it, and lets a CLI command in the same
// directory find it; its everyday script reaches the records as events, an unlock by
// Sam's code naming Sam; Ctrl-C stops it and it leaves no server file behind.
func TestDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	done := make(chan error, 1)
	go func() {
		// Fifty virtual seconds a real one: the garage's 30 s auto-lock takes 0.6 s.
		done <- m.Demo(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler), demoTimings{Step: 100 * time.Millisecond, Speed: 50})
	}()
	var demo demoServer
	for deadline := time.Now().Add(time.Minute); ; {
		if s, ok := discoverDemo(); ok && strings.Contains(out.String(), "Ctrl-C") {
			demo = s
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the demo stopped: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo did not start within a minute")
		}
	}
	if !strings.Contains(out.String(), demo.URL+"/login/link/") {
		t.Errorf("the demo printed no one-time sign-in link:\n%s", out.String())
	}
	// The printed password signs the owner in.
	_, password, _ := strings.Cut(out.String(), "with the password ")
	password, _, _ = strings.Cut(password, "\n")
	body := strings.NewReader(`{"name":"alex","password":"` + password + `"}`)
	resp, err := http.Post(demo.URL+"/api/v1/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("signing in with the printed password %q: %s", password, resp.Status)
	}

	// 'latchkey lock ls' in the same directory works on the running demo.
	var ls bytes.Buffer
	cli := NewMain()
	cli.Stdout, cli.Stderr = &ls, io.Discard
	if status := cli.Run(context.Background(), []string{"lock", "ls", "--json"}); status != 0 {
		t.Fatalf("lock ls: exit %d", status)
	}
	var locks struct{ Items []latchkey.Lock }
	if err := json.Unmarshal(ls.Bytes(), &locks); err != nil {
		t.Fatalf("lock ls --json: %v\n%s", err, ls.String())
	}
	if len(locks.Items) != 4 {
		t.Fatalf("lock ls found %d locks, want the demo's four:\n%s", len(locks.Items), ls.String())
	}

	// The script's moments arrive as events, the unlock naming Sam.
	var people struct{ Items []latchkey.Person }
	demoGet(t, demo, "/api/v1/people", &people)
	var sam int64
	for _, p := range people.Items {
		if p.Name == "Sam Chen" {
			sam = p.ID
		}
	}
	if sam == 0 {
		t.Fatalf("the demo has no Sam Chen: %+v", people.Items)
	}
	var codes struct{ Items []latchkey.Code }
	demoGet(t, demo, "/api/v1/codes", &codes)
	var cleaner int64
	for _, c := range codes.Items {
		if c.Label == "Cleaner's code" && c.Revoked {
			cleaner = c.ID
		}
	}
	if cleaner == 0 {
		t.Fatalf("the demo has no revoked cleaner's code: %+v", codes.Items)
	}
	want := map[string]bool{"unlock by Sam's code": false, "wrong code": false, "auto-lock": false, "low battery": false,
		"the cleaner's revoked code taken off by the sync engine": false}
	for deadline := time.Now().Add(time.Minute); anyUnseen(want); {
		if time.Now().After(deadline) {
			t.Fatalf("events seen after a minute: %v", want)
		}
		time.Sleep(100 * time.Millisecond)
		var grants []latchkey.Grant
		demoGet(t, demo, "/api/v1/grants?code="+strconv.FormatInt(cleaner, 10), &grants)
		if len(grants) == 1 && grants[0].Status == latchkey.GrantRemoved {
			want["the cleaner's revoked code taken off by the sync engine"] = true
		}
		var events []latchkey.Event
		demoGet(t, demo, "/api/v1/events?limit=100", &events)
		for _, e := range events {
			switch {
			case e.Kind == latchkey.EventUnlocked && e.Source == latchkey.SourceKeypad && e.PersonID == sam:
				want["unlock by Sam's code"] = true
			case e.Kind == latchkey.EventWrongCode:
				want["wrong code"] = true
			case e.Kind == latchkey.EventLocked && e.Source == latchkey.SourceAuto:
				want["auto-lock"] = true
			case e.Kind == latchkey.EventLowBattery:
				want["low battery"] = true
			}
		}
	}

	demoThroughTheServer(t, demo)

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the demo stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of Ctrl-C")
	}
	if _, err := os.Stat(filepath.Join(demoDir, demoServerFile)); !os.IsNotExist(err) {
		t.Errorf("the stopped demo left %s behind (%v)", demoServerFile, err)
	}
}

// A directory the demo did not make is never deleted.
func TestDemoKeepsForeignDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(demoDir, 0o700); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(demoDir, "notes.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := freshDemoDir(demoDir)
	if latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Fatalf("a foreign ./%s: %v, want a conflict", demoDir, err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("the foreign directory lost its file: %v", err)
	}
}

// syncBuffer is a buffer the demo writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func anyUnseen(m map[string]bool) bool {
	for _, v := range m {
		if !v {
			return true
		}
	}
	return false
}

// demoGet decodes what the running demo's API answers at path.
func demoGet(t *testing.T, demo demoServer, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", demo.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+demo.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// demoThroughTheServer drives the running demo through its API as a program would: a
// code added on the front and garage locks reaches "set" on both with no one confirming
// it, a subscribed receiver gets a signed code.set for each, and the code revoked is
// "removed" from both once the engine has read their slots back empty.
func demoThroughTheServer(t *testing.T, demo demoServer) {
	t.Helper()
	ctx := context.Background()
	client := lkhttp.NewClient(demo.URL, demo.Token)
	type delivery struct {
		event string
		body  []byte
	}
	got := make(chan delivery, 16)
	var secret atomic.Value
	secret.Store("")
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify(secret.Load().(string), r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute) {
			t.Errorf("a delivery not signed with the webhook's secret: %s", body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- delivery{r.Header.Get(webhook.HeaderEvent), body}
	}))
	defer rcv.Close()
	_, key, err := client.CreateWebhook(ctx, latchkey.NewWebhook{URL: rcv.URL, Events: []latchkey.WebhookKind{latchkey.HookCodeSet, latchkey.HookCodeRemoved}})
	if err != nil {
		t.Fatal(err)
	}
	secret.Store(key)

	var front, garage int64
	locks, _, err := client.FindLocks(ctx, latchkey.LockFilter{}, latchkey.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locks {
		switch l.Name {
		case "Front door":
			front = l.ID
		case "Garage entry": // the back door's battery runs low in the script
			garage = l.ID
		}
	}
	people, _, err := client.FindPeople(ctx, latchkey.Page{Limit: 10})
	if err != nil || len(people) == 0 || front == 0 || garage == 0 {
		t.Fatalf("the demo's people %v and locks %v (%v)", people, locks, err)
	}
	c, _, err := client.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: people[0].ID, Label: "Through the API"}, LockIDs: []int64{front, garage}})
	if err != nil {
		t.Fatal(err)
	}
	waitGrants := func(want latchkey.GrantStatus) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; {
			grants, err := client.FindGrants(ctx, latchkey.GrantFilter{CodeID: &c.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(grants) == 2 && grants[0].Status == want && grants[1].Status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the code through the API is not %s on both locks: %+v, %+v", want, grants[0], grants[1])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitDeliveries := func(event string) {
		t.Helper()
		seen := 0
		for seen < 2 {
			select {
			case d := <-got:
				if d.event == event && strings.Contains(string(d.body), `"code_id":`+strconv.FormatInt(c.ID, 10)) {
					seen++
				}
			case <-time.After(time.Minute):
				t.Fatalf("%d signed %s deliveries for the code, want one per lock", seen, event)
			}
		}
	}
	waitGrants(latchkey.GrantSet)
	waitDeliveries(string(latchkey.HookCodeSet))
	if _, err := client.RevokeCode(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	waitGrants(latchkey.GrantRemoved)
	waitDeliveries(string(latchkey.HookCodeRemoved))
}
