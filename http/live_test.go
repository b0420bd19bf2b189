package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

func TestEventStream(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	owner.must("PATCH", "/api/v1/locks/1", map[string]any{"connection": map[string]any{"driver": "sim", "address": "front"}}, nil, 200)

	if got := newClient(t, s.URL()).do("GET", "/api/v1/events/stream", nil, nil); got != 401 {
		t.Fatalf("stream without credentials: %d, want 401", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/events/stream", nil)
	resp, err := owner.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	// The opening comment and its blank line: the subscription exists once they arrive.
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ":") || !lines.Scan() || lines.Text() != "" {
		t.Fatalf("stream opened with %q, want a comment", lines.Text())
	}

	// An event of a lock nobody knows is dropped; the next one, of the front door, streams.
	bg := context.Background()
	if _, err := svc.RecordDeviceEvent(bg, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "nowhere", Kind: latchkey.EventUnlocked}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordDeviceEvent(bg, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 1, Bolt: "unlocked"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for lines.Scan() && lines.Text() != "" {
		got = append(got, lines.Text())
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "id: ") || !strings.HasPrefix(got[1], "data: ") {
		t.Fatalf("streamed %q", got)
	}
	var e latchkey.Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got[1], "data: ")), &e); err != nil {
		t.Fatal(err)
	}
	if e.Kind != latchkey.EventUnlocked || e.LockID != 1 || e.Slot != 1 || e.PersonID == 0 {
		t.Fatalf("event %+v: want lock 1, slot 1 and the person whose code it is", e)
	}
	var lock latchkey.Lock
	defer func() {
		// Shutting the server down ends the stream, rather than waiting for it.
		closed, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		if err := s.Close(closed); err != nil {
			t.Errorf("close with a stream open: %v", err)
		}
		for lines.Scan() {
		}
	}()
	owner.must("GET", "/api/v1/locks/1", nil, &lock, 200)
	if lock.State.Bolt != "unlocked" || lock.State.LastSeen == nil {
		t.Fatalf("lock state after the event: %+v", lock.State)
	}
	var events []latchkey.Event
	owner.must("GET", "/api/v1/events?lock=1", nil, &events, 200)
	if len(events) == 0 || events[0].ID != e.ID {
		t.Fatalf("recorded events: %+v", events)
	}
}

func TestLoginLink(t *testing.T) {
	s, svc := MustOpenUIServer(t)
	setup(t, s.URL())
	u, err := svc.FindUserByName(context.Background(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	link := s.LoginLink(u)
	if !strings.HasPrefix(link, s.URL()+"/login/link/") {
		t.Fatalf("link %q", link)
	}
	signIn := func() (*client, *http.Response) {
		jar, _ := cookiejar.New(nil)
		c := &client{t: t, base: s.URL(), http: &http.Client{Jar: jar}, hdr: map[string]string{}}
		resp, err := c.http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return c, resp
	}
	c, resp := signIn()
	var me lkhttp.Me
	c.must("GET", "/api/v1/me", nil, &me, 200)
	if resp.StatusCode != 200 || me.Name != "ana" {
		t.Fatalf("first use: %d, me %+v", resp.StatusCode, me)
	}
	c, resp = signIn()
	if got := c.do("GET", "/api/v1/me", nil, nil); resp.StatusCode != 401 || got != 401 {
		t.Fatalf("a second use of the link: %d, then /me %d; want both 401", resp.StatusCode, got)
	}
}

// A stream opened before its account was removed ends there: the next event is not
// delivered to someone who may no longer read.
func TestEventStreamEndsWithAccess(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	owner.must("PATCH", "/api/v1/locks/1", map[string]any{"connection": map[string]any{"driver": "sim", "address": "front"}}, nil, 200)
	var vera latchkey.User
	owner.must("POST", "/api/v1/users", map[string]any{"name": "vera", "role": "viewer", "password": "a long enough password"}, &vera, 201)
	viewer := newClient(t, s.URL())
	viewer.must("POST", "/api/v1/login", lkhttp.Credentials{Name: "vera", Password: "a long enough password"}, nil, 200)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL()+"/api/v1/events/stream", nil)
	resp, err := viewer.http.Do(req)
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
	owner.must("DELETE", fmt.Sprintf("/api/v1/users/%d", vera.ID), nil, nil, 200)
	if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventUnlocked, Slot: 1}); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data:") {
			t.Fatalf("a removed account's stream delivered %s", lines.Text())
		}
	}
}
