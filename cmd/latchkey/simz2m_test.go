package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	main "github.com/latchkey/latchkey/cmd/latchkey"
	"github.com/latchkey/latchkey/zigbee2mqtt"
)

// Bad flags of 'sim z2m' are usage errors that say what to give; a model without PIN
// support over Zigbee is refused, naming the ones that have it.
func TestSimZ2MFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "z2m"}, "--broker is required"},
		{[]string{"sim", "z2m", "--broker", "mqtt://127.0.0.1:1", "--locks", "0"}, "--locks is 0"},
		{[]string{"sim", "z2m", "--broker", "mqtt://127.0.0.1:1", "--speed", "-1"}, "--speed is -1"},
		{[]string{"sim", "z2m", "--broker", "mqtt://127.0.0.1:1", "--model", "909"}, "910, 912, 914 or 916"},
		{[]string{"sim", "z2m", "--broker", "not a url"}, "not a URL"},
		{[]string{"sim", "z2m", "--broker", "mqtt://127.0.0.1:1", "--base", "z2m/#"}, "not one Zigbee2MQTT takes"},
	} {
		r := runCLI(t, "", c.args...)
		if r.status == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q; want a failure saying %q", c.args, r.status, r.stderr, c.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while the command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// 'latchkey sim z2m' publishes its locks as Zigbee2MQTT devices: the zigbee2mqtt driver
// lists them with their Zigbee model ids and sets a code on one; Ctrl-C stops it with
// status 0, the bridge published offline.
func TestSimZ2MServesTheDriver(t *testing.T) {
	broker := os.Getenv("LATCHKEY_TEST_MQTT")
	if broker == "" {
		t.Skip("no MQTT broker: set LATCHKEY_TEST_MQTT=tcp://127.0.0.1:1883 (a Mosquitto) to run 'sim z2m' against it")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	base := "latchkey-test/" + hex.EncodeToString(b)
	t.Cleanup(func() {
		// The fleet leaves its retained messages, as Zigbee2MQTT does: clear them.
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker))
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			for _, topic := range []string{"bridge/state", "bridge/devices", "lock-1/availability", "lock-2/availability"} {
				c.Publish(base+"/"+topic, 1, true, []byte{}).WaitTimeout(time.Second)
			}
			c.Disconnect(100)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := main.NewMain()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	m.Stdout, m.Stderr = out, errOut
	status := make(chan int, 1)
	go func() {
		status <- m.Run(ctx, []string{"sim", "z2m", "--broker", broker, "--base", base, "--locks", "2", "--model", "910,916", "--speed", "20"})
	}()

	d := &zigbee2mqtt.Driver{Broker: broker, BaseTopic: base, ReadEvery: time.Second}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := d.Ready(wait); err != nil {
		t.Fatalf("%v; the command said: %s %s", err, out.String(), errOut.String())
	}
	devices, err := d.Devices(wait)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]string{}
	for _, dev := range devices {
		models[dev.Name] = dev.ZigbeeModel
	}
	if models["lock-1"] != "SMARTCODE_DEADBOLT_5" || models["lock-2"] != "SMARTCODE_DEADBOLT_10T" {
		t.Fatalf("listed %v, want lock-1 a 910 and lock-2 a 916", models)
	}
	for _, dev := range devices {
		if dev.Name == "lock-2" {
			if err := d.SetCode(wait, dev.Address, 3, "482913"); err != nil {
				t.Fatalf("set a code on lock-2: %v", err)
			}
		}
	}
	cancel()
	select {
	case s := <-status:
		if s != 0 || !strings.Contains(out.String(), "Stopped") {
			t.Fatalf("status %d: %s %s", s, out.String(), errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("'sim z2m' did not stop on Ctrl-C")
	}
}
