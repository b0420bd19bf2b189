package main_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// Codes set at the keypad: one over Latchkey's code shows on code show as a conflicting
// change; ones in slots Latchkey does not own are listed by lock slots, cleared with lock
// clear-slot, and adopted with code adopt, locally and through the server, the PIN never
// printed.
func TestLockSlotsCLI(t *testing.T) {
	url, local, svc := serveDataService(t)
	owner := tokenFor(t, url, local, "ana", "owner")
	cli := func(args ...string) result { return runCLI(t, "", append(args, local...)...) }
	remote := func(args ...string) result { return runCLI(t, "", append(args, owner...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--driver", "sim", "--address", "front"},
		{"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Ana's code", "--pin", "135790", "--confirmed"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	ctx := latchkey.NewContextWithActor(context.Background(), "hub")
	for _, ev := range []latchkey.DeviceEvent{{Kind: latchkey.EventCodeChanged, Slot: 1}, {Kind: latchkey.EventCodeAdded, Slot: 2}, {Kind: latchkey.EventCodeAdded, Slot: 3}} {
		ev.Driver, ev.Address, ev.Source = latchkey.DriverSim, "front", latchkey.SourceKeypad
		if _, err := svc.RecordDeviceEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	r := cli("code", "show", "1")
	for _, want := range []string{"failed (changed at the lock)", "NEXT ATTEMPT", "was changed at the keypad", "Warning on Deadbolt (lock 1): change at lock in effect"} {
		if r.status != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("code show 1 lacks %q: %d\n%s%s", want, r.status, r.stdout, r.stderr)
		}
	}
	var listed []latchkey.ForeignCode
	decode(t, cli("lock", "slots", "1", "--json"), &listed)
	if len(listed) != 2 || listed[0].Slot != 2 || listed[1].Slot != 3 {
		t.Fatalf("lock slots 1 --json: %+v", listed)
	}
	if r := cli("lock", "clear-slot", "1", "--slot", "2"); r.status != 0 {
		t.Fatalf("lock clear-slot: %d %s", r.status, r.stderr)
	}
	if r := remote("lock", "slots", "1"); r.status != 0 || !strings.Contains(r.stdout, "being cleared") || !strings.Contains(r.stdout, "code adopt --lock 1") {
		t.Errorf("lock slots 1 through the server: %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	if r := cli("code", "adopt", "--lock", "1", "--slot", "3", "--person", "1", "--label", "Keypad"); r.status == 0 || !strings.Contains(r.stderr, "--pin") {
		t.Errorf("adopting where no hub reads the slot: %d %q", r.status, r.stderr)
	}
	r = remote("code", "adopt", "--lock", "1", "--slot", "3", "--person", "1", "--label", "Keypad", "--pin", "246810")
	if r.status != 0 || !strings.Contains(r.stdout, "is now code 2") || strings.Contains(r.stdout+r.stderr, "246810") {
		t.Fatalf("code adopt through the server: %d %q %q", r.status, r.stdout, r.stderr)
	}
	if r := cli("code", "show", "2"); !strings.Contains(r.stdout, "unconfirmed") {
		t.Errorf("the adopted code:\n%s", r.stdout)
	}
	if r := cli("lock", "clear-slot", "1", "--slot", "3"); r.status == 0 || !strings.Contains(r.stderr, "lock slots 1") {
		t.Errorf("clearing an adopted slot: %d %q", r.status, r.stderr)
	}
}
