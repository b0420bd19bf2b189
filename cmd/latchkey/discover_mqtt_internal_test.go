package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/z2msim"
)

// serveData runs 'latchkey serve' on a data directory with an owner's token, until the
// test ends; it returns the server's URL, the flags that reach it, and its log.
func serveData(t *testing.T) (base string, remote []string, log *strings.Builder) {
	t.Helper()
	dir := t.TempDir()
	data := []string{"--data", dir}
	if st, _, errOut := runMain(t, "a long enough password\n", append([]string{"user", "add", "ana", "--role", "owner"}, data...)...); st != 0 {
		t.Fatal(errOut)
	}
	_, tokOut, _ := runMain(t, "", append([]string{"token", "create", "ci", "--user", "ana", "--json"}, data...)...)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(tokOut), &tok); err != nil {
		t.Fatal(err, tokOut)
	}
	m := NewMain()
	out, w := io.Pipe()
	log = &strings.Builder{}
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), w, &syncWriter{w: log}
	urls := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "Latchkey is serving at "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	status := make(chan int, 1)
	go func() {
		status <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, data...))
		w.Close()
	}()
	select {
	case base = <-urls:
	case s := <-status:
		t.Fatalf("serve stopped with %d", s)
	case <-time.After(30 * time.Second):
		t.Fatal("serve never said it serves")
	}
	t.Cleanup(func() {
		cancel()
		if s := <-status; s != 0 {
			t.Errorf("serve stopped with %d", s)
		}
	})
	return base, []string{"--server", base, "--token", tok.Token}, log
}

// keypadAdd has a person add a code at a fleet lock's keypad with the Mastercode.
func keypadAdd(t *testing.T, fleet *z2msim.Fleet, name, pin string) {
	t.Helper()
	var err error
	fleet.Do(func(w *sim.World) {
		twin, terr := w.Twin(name)
		if terr != nil {
			err = terr
			return
		}
		l := twin.(*sim.Lock)
		for _, entry := range []string{z2msim.Mastercode, pin, pin} {
			for _, k := range entry {
				if err = l.Press(string(k)); err != nil {
					return
				}
			}
			if err = l.Press(sim.KeyLock); err != nil {
				return
			}
		}
	})
	mustDo(t, err)
}

// End to end over Mosquitto, with the twin fleet as Zigbee2MQTT: a code set at a lock's
// keypad before Latchkey knew the lock; the lock is discovered with the fleet's model,
// adopted from the command line, and surveyed: the code is listed as foreign and never
// written over (a new code goes beside it), and adopting it makes it a Latchkey code
// with the PIN read from the lock. No PIN is in the listing or the server's log.
func TestDiscoverAndAdoptOverMQTT(t *testing.T) {
	broker := os.Getenv("LATCHKEY_TEST_MQTT")
	if broker == "" {
		t.Skip("no MQTT broker: set LATCHKEY_TEST_MQTT=tcp://127.0.0.1:1883 (a Mosquitto) to adopt a fleet lock over Zigbee2MQTT")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	topic := "latchkey-test/" + hex.EncodeToString(b)
	fleet, err := z2msim.New(z2msim.Config{Broker: broker, BaseTopic: topic, Locks: []z2msim.LockSpec{{Name: "front", Model: "914"}},
		Seed: 7, Speed: 20, ExposePIN: true, ClearRetained: true})
	mustDo(t, err)
	start, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mustDo(t, fleet.Start(start))
	t.Cleanup(fleet.Close)
	const keypadPIN = "482913"
	keypadAdd(t, fleet, "front", keypadPIN)
	if held, err := fleet.Holds("front", 1); err != nil || !held {
		t.Fatalf("the keypad code is not in slot 1: %v %v", held, err)
	}

	base, remote, log := serveData(t)
	api := lkhttp.NewClient(base, remote[3])
	if st, stdout, stderr := runMain(t, "", append([]string{"hub", "add", "zigbee2mqtt", strings.Replace(broker, "tcp://", "mqtt://", 1), "--base-topic", topic}, remote...)...); st != 0 {
		t.Fatalf("hub add: %d %q %q", st, stdout, stderr)
	}
	var found []latchkey.HubDiscovery
	var listing string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st, stdout, _ := runMain(t, "", append([]string{"hub", "discovered", "--json"}, remote...)...)
		if st == 0 && json.Unmarshal([]byte(stdout), &found) == nil && len(found) == 1 && len(found[0].Locks) == 1 {
			listing = stdout
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fleet's lock is never discovered: %d %s", st, stdout)
		}
	}
	dl := found[0].Locks[0]
	if dl.ModelID != "914" || dl.Device.ZigbeeModel == "" || dl.Device.Address == "" || strings.Contains(listing, keypadPIN) {
		t.Fatalf("discovered %+v", dl)
	}
	if st, stdout, _ := runMain(t, "", append([]string{"hub", "discovered"}, remote...)...); st != 0 || !strings.Contains(stdout, dl.Device.Address) || !strings.Contains(stdout, "(914)") {
		t.Fatalf("hub discovered: %d %s", st, stdout)
	}

	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	mustDo(t, api.CreateSite(owner, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	mustDo(t, api.CreateDoor(owner, door))
	st, stdout, stderr := runMain(t, "", append([]string{"hub", "adopt", "zigbee2mqtt", dl.Device.Address, "--door", strconv.FormatInt(door.ID, 10), "--name", "Front deadbolt", "--json"}, remote...)...)
	var l latchkey.Lock
	if st != 0 || json.Unmarshal([]byte(stdout), &l) != nil {
		t.Fatalf("hub adopt: %d %q %q", st, stdout, stderr)
	}
	for l.Survey.Pending() { // the twin may doze: the survey is taken up again
		st, stdout, stderr = runMain(t, "", append([]string{"hub", "survey", strconv.FormatInt(l.ID, 10), "--json"}, remote...)...)
		if st == 0 {
			mustDo(t, json.Unmarshal([]byte(stdout), &l))
		} else if !strings.Contains(stderr, "stopped answering") {
			t.Fatalf("hub survey: %d %q", st, stderr)
		}
	}
	if l.ModelID != "914" || l.Survey.State != latchkey.SurveyDone || l.Survey.Found != 1 || l.Survey.Read != z2msim.PINCodeCount {
		t.Fatalf("adopted %+v", l)
	}
	foreign, err := api.FindForeignCodes(owner, l.ID)
	mustDo(t, err)
	if len(foreign) != 1 || foreign[0].Slot != 1 {
		t.Fatalf("foreign codes %+v", foreign)
	}

	// A new code goes beside the one found, never over it.
	p := &latchkey.Person{Name: "Sam", Role: latchkey.RoleOwner}
	mustDo(t, api.CreatePerson(owner, p))
	c, pin, err := api.CreateCode(owner, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, LockIDs: []int64{l.ID}})
	mustDo(t, err)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
		}
	}
	eventually("the new code is set through the hub", func() bool {
		gs, err := api.FindGrants(owner, latchkey.GrantFilter{CodeID: &c.ID})
		return err == nil && len(gs) == 1 && gs[0].Status == latchkey.GrantSet && gs[0].Slot != 1
	})
	if held, err := fleet.Holds("front", 1); err != nil || !held {
		t.Fatal("the keypad code was written over")
	}

	// Adopting it reads its PIN from the lock: it is a Latchkey code, in its slot.
	adopted, err := api.AdoptForeignCode(owner, latchkey.Adoption{LockID: l.ID, Slot: 1, PersonID: p.ID, Label: "Keypad code"})
	mustDo(t, err)
	revealed, err := api.RevealCode(owner, adopted.ID)
	mustDo(t, err)
	if revealed != keypadPIN {
		t.Fatal("the adopted code is not the one set at the keypad")
	}
	if foreign, err = api.FindForeignCodes(owner, l.ID); err != nil || len(foreign) != 0 {
		t.Fatalf("still foreign after adoption: %+v %v", foreign, err)
	}
	if strings.Contains(log.String(), keypadPIN) || strings.Contains(log.String(), pin) {
		t.Fatal("the server's log holds a PIN")
	}
}
