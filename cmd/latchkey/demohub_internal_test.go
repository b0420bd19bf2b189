package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey"
)

// 'latchkey demo --hub z2m' runs the demo with its electronic locks published as
// Zigbee2MQTT devices on a real broker: the records connect them through the zigbee2mqtt
// driver by IEEE address; a code added through the API reaches set on two locks, and
// once revoked is removed from both, through the broker; the script's unlock by Sam's
// code reaches the records; the virtual hands rekey the side door in the fleet's world;
// a factory reset of the garage entry takes it off Zigbee2MQTT and adds it back through
// bridge requests; and the stopped demo leaves no retained message under its base topic.
func TestDemoOverZigbee2MQTT(t *testing.T) {
	broker := os.Getenv("LATCHKEY_TEST_MQTT")
	if broker == "" {
		t.Skip("no MQTT broker: set LATCHKEY_TEST_MQTT=tcp://127.0.0.1:1883 (a Mosquitto) to run 'demo --hub z2m' against it")
	}
	defer func(d time.Duration) { walkPoll = d }(walkPoll)
	walkPoll = 20 * time.Millisecond
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	base := "latchkey-demo-test/" + hex.EncodeToString(b)

	t.Chdir(t.TempDir())
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	done := make(chan error, 1)
	go func() {
		done <- m.demo(ctx, demoHub{Kind: demoHubZ2M, Broker: broker, Base: base}, "127.0.0.1:0",
			slog.New(slog.DiscardHandler), demoTimings{Step: 100 * time.Millisecond, Speed: 50})
	}()
	var demo demoServer
	for deadline := time.Now().Add(2 * time.Minute); ; {
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
			t.Fatal("the demo did not start within two minutes")
		}
	}
	if want := "Zigbee2MQTT on " + broker + " under base topic \"" + base + "\""; !strings.Contains(out.String(), want) {
		t.Errorf("the banner does not say %q:\n%s", want, out.String())
	}

	var locks struct{ Items []latchkey.Lock }
	demoGet(t, demo, "/api/v1/locks", &locks)
	ids := map[string]int64{}
	for _, l := range locks.Items {
		ids[l.Name] = l.ID
		switch {
		case l.Name == "Side door" && l.Connection.Driver != "":
			t.Errorf("the side door's knob has a connection: %+v", l.Connection)
		case l.Name != "Side door" && (l.Connection.Driver != latchkey.DriverZigbee2MQTT || !strings.HasPrefix(l.Connection.Address, "0x")):
			t.Errorf("%s is connected by %+v, want the zigbee2mqtt driver and an IEEE address", l.Name, l.Connection)
		}
	}
	if len(ids) != 4 {
		t.Fatalf("the demo's locks: %v", ids)
	}

	// Sam's code, put on by the sync engine through the broker, opens the front door in
	// the script, and the unlock reaches the records through Zigbee2MQTT's events.
	var people struct{ Items []latchkey.Person }
	demoGet(t, demo, "/api/v1/people", &people)
	var sam int64
	for _, p := range people.Items {
		if p.Name == "Sam Chen" {
			sam = p.ID
		}
	}
	for deadline := time.Now().Add(time.Minute); ; {
		var events []latchkey.Event
		demoGet(t, demo, "/api/v1/events?limit=100", &events)
		seen := false
		for _, e := range events {
			seen = seen || e.Kind == latchkey.EventUnlocked && e.Source == latchkey.SourceKeypad && e.PersonID == sam && e.LockID == ids["Front door"]
		}
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no unlock by Sam's code at the front door in a minute: %+v", events)
		}
		time.Sleep(100 * time.Millisecond)
	}

	demoThroughTheServer(t, demo)

	// The virtual hands rekey the side door's knob, a cylinder of the fleet's world.
	var cliOut bytes.Buffer
	cli := NewMain()
	cli.Stdin, cli.Stdout, cli.Stderr = strings.NewReader(""), &cliOut, &cliOut
	side := strconv.FormatInt(ids["Side door"], 10)
	if status := cli.Run(context.Background(), []string{"rekey", "--lock", side, "--hands", "sim"}); status != 0 {
		t.Fatalf("rekey of the side door: exit %d\n%s", status, cliOut.String())
	}
	var runs struct{ Items []latchkey.Run }
	demoGet(t, demo, "/api/v1/procedures?kind=rekey&lock="+side, &runs)
	if len(runs.Items) != 1 || runs.Items[0].Status != latchkey.RunDone {
		t.Fatalf("the side door's rekey: %+v", runs.Items)
	}
	var lock latchkey.Lock
	demoGet(t, demo, "/api/v1/locks/"+side, &lock)
	if lock.KeyID == 0 || lock.KeyID == 1 {
		t.Errorf("the side door after its rekey is on key %d, want a new key", lock.KeyID)
	}

	// A factory reset of the garage entry: Latchkey takes it off Zigbee2MQTT
	// (device/remove), the hands reset it, Latchkey permits joins while the hands press
	// button A four times, and the codes go back on through the broker.
	cliOut.Reset()
	garage := strconv.FormatInt(ids["Garage entry"], 10)
	if status := cli.Run(context.Background(), []string{"reset", "--lock", garage, "--hands", "sim"}); status != 0 {
		t.Fatalf("reset of the garage entry: exit %d\n%s", status, cliOut.String())
	}
	demoGet(t, demo, "/api/v1/procedures?kind=reset&lock="+garage, &runs)
	if len(runs.Items) != 1 || runs.Items[0].Status != latchkey.RunDone {
		t.Fatalf("the garage entry's reset: %+v", runs.Items)
	}
	hub := map[string]string{}
	for _, rec := range runs.Items[0].Records {
		if v := rec.Evidence["hub"]; v != "" {
			hub[rec.Step] = v
		}
	}
	if hub["exclude"] != "removed" || hub["include"] != "added" {
		t.Errorf("the reset's hub steps: %v, want the lock removed from Zigbee2MQTT and added back", hub)
	}
	demoGet(t, demo, "/api/v1/locks/"+garage, &lock)
	if lock.Status == latchkey.LockQuarantined {
		t.Errorf("the garage entry is still quarantined after the reset's end")
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the demo stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of Ctrl-C")
	}
	if left := retained(t, broker, base); len(left) > 0 {
		t.Errorf("the stopped demo left retained messages on the broker: %v", left)
	}
}

// retained returns the topics under base that hold a retained message: the broker
// delivers them at once to a new subscriber.
func retained(t *testing.T, broker, base string) []string {
	t.Helper()
	var mu sync.Mutex
	var topics []string
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connecting to %s: %v", broker, tok.Error())
	}
	defer c.Disconnect(100)
	c.Subscribe(base+"/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		if m.Retained() && len(m.Payload()) > 0 {
			mu.Lock()
			topics = append(topics, m.Topic())
			mu.Unlock()
		}
	}).WaitTimeout(5 * time.Second)
	time.Sleep(time.Second) // retained messages come right after the subscription
	mu.Lock()
	defer mu.Unlock()
	return topics
}

// With no broker answering, 'demo --hub z2m' says so and how to go on, exits nonzero
// and leaves no demo directory; --hub takes only sim and z2m.
func TestDemoHubErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		m := NewMain()
		m.Stdout, m.Stderr = &out, &out
		status := m.Run(context.Background(), append([]string{"demo", "--addr", "127.0.0.1:0"}, args...))
		return status, out.String()
	}
	status, out := run("--hub", "z2m", "--broker", "mqtt://127.0.0.1:1")
	for _, want := range []string{"No MQTT broker answered at mqtt://127.0.0.1:1", "Start Mosquitto", "leave out --hub"} {
		if status == 0 || !strings.Contains(out, want) {
			t.Errorf("with no broker: exit %d, and no %q in:\n%s", status, want, out)
		}
	}
	if _, err := os.Stat(demoDir); !os.IsNotExist(err) {
		t.Errorf("the failed demo left ./%s behind (%v)", demoDir, err)
	}
	if status, out := run("--hub", "zwave"); status == 0 || !strings.Contains(out, `--hub is "zwave"; give sim`) {
		t.Errorf("--hub zwave: exit %d\n%s", status, out)
	}
	if status, out := run("--broker", "mqtt://127.0.0.1:1883"); status == 0 || !strings.Contains(out, "--broker goes with --hub z2m") {
		t.Errorf("--broker without --hub z2m: exit %d\n%s", status, out)
	}
}
