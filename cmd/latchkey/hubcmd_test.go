package main_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// Hubs from the command line, on local data: added (the password read from standard
// input, sealed, never shown), listed, removed; one per driver; bad input refused as
// usage or with what to do.
func TestHubCLILocal(t *testing.T) {
	flags := []string{"--data", t.TempDir()}
	cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, flags...)...) }
	r := cli("broker-pass-42\n", "hub", "add", "zigbee2mqtt", "mqtt://broker.local:1883", "--username", "latchkey", "--password-stdin", "--base-topic", "home/z2m")
	if r.status != 0 || !strings.Contains(r.stdout, "Added hub 1: Zigbee2MQTT at mqtt://broker.local:1883.") || !strings.Contains(r.stdout, "sealed") || strings.Contains(r.stdout, "broker-pass-42") {
		t.Fatalf("add: %d %q %q", r.status, r.stdout, r.stderr)
	}
	var made latchkey.Hub
	decode(t, cli("", "hub", "add", "zwavejs", "ws://zwave-js-ui.local:3000", "--name", "Basement", "--json"), &made)
	if made.ID != 2 || made.Name != "Basement" || made.HasSecret {
		t.Fatalf("add --json: %+v", made)
	}
	r = cli("", "hub", "ls")
	if r.status != 0 || !strings.Contains(r.stdout, "mqtt://broker.local:1883 (topic home/z2m)") || !strings.Contains(r.stdout, "latchkey (password sealed)") ||
		!strings.Contains(r.stdout, "Basement") || strings.Contains(r.stdout, "broker-pass-42") {
		t.Fatalf("ls:\n%s", r.stdout)
	}
	if r := cli("", "hub", "ls", "--json"); !strings.Contains(r.stdout, `"total": 2`) || !strings.Contains(r.stdout, `"has_secret": true`) || strings.Contains(r.stdout, "broker-pass-42") {
		t.Fatalf("ls --json:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		stdin  string
		args   []string
		status int
		says   string
	}{
		{"", []string{"hub", "add", "zha", "ws://h:3000"}, 2, "zwavejs or zigbee2mqtt"},
		{"", []string{"hub", "add", "zwavejs"}, 2, "accepts 2 arg"},
		{"", []string{"hub", "add", "zigbee2mqtt", "mqtt://other:1883"}, 1, "There is a Zigbee2MQTT hub already (hub 1"},
		{"", []string{"hub", "add", "zwavejs", "mqtt://h:1883"}, 1, "ws:// or wss://"},
		{"", []string{"hub", "add", "zigbee2mqtt", "mqtt://u:hunter22@h:1883"}, 1, "--username and --password-stdin"},
		{"\n", []string{"hub", "add", "zwavejs", "ws://h:3000", "--password-stdin"}, 1, "Type the hub's password or token"},
		{"", []string{"hub", "rm", "x"}, 1, "not a hub id"},
		{"", []string{"hub", "rm", "9"}, 1, "No hub with id 9"},
	} {
		r := cli(tc.stdin, tc.args...)
		if r.status != tc.status || !strings.Contains(r.stderr, tc.says) || strings.Contains(r.stderr, "hunter22") {
			t.Errorf("%v: %d %q; want %d saying %q", tc.args, r.status, r.stderr, tc.status, tc.says)
		}
	}
	cli("", "site", "add", "Home")
	cli("", "door", "add", "--site", "1", "Front")
	cli("", "lock", "add", "--door", "1", "Front deadbolt", "--model", "916", "--driver", "zwavejs", "--address", "7")
	if r := cli("", "hub", "rm", "2"); r.status != 1 || !strings.Contains(r.stderr, "Front deadbolt (lock 1)") || !strings.Contains(r.stderr, "--disconnect") {
		t.Fatalf("rm of a hub in use: %d %q", r.status, r.stderr)
	}
	// Paired again after a reset, the lock has a new node id: its address follows.
	if r := cli("", "lock", "set", "1", "--driver", "zwavejs", "--address", "9", "--json"); r.status != 0 || !strings.Contains(r.stdout, `"address": "9"`) {
		t.Fatalf("a new address: %d %q %q", r.status, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"--address", "9"}, {"--driver", "zwavejs", "--disconnect"}} {
		if r := cli("", append([]string{"lock", "set", "1"}, args...)...); r.status != 2 {
			t.Fatalf("lock set %v: %d %q", args, r.status, r.stderr)
		}
	}
	if r := cli("", "lock", "set", "1", "--disconnect"); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli("", "hub", "rm", "2"); r.status != 0 || !strings.Contains(r.stdout, "Removed hub 2.") {
		t.Fatalf("rm: %d %q %q", r.status, r.stdout, r.stderr)
	}
	if r := cli("", "audit", "ls"); r.status != 0 || !strings.Contains(r.stdout, "removed hub 2 (Basement)") || strings.Contains(r.stdout, "broker-pass-42") {
		t.Fatalf("the audit log (no password in it):\n%s", r.stdout)
	}
}
