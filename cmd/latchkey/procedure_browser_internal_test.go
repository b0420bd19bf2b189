package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Done when (issue 11): the web runner is walked end to end in headless Chromium, at a
// phone's size, for a rekey and a factory reset in the demo. A person rekeys the side
// door: the rekey is started from the lock's page and every step is tapped through (each
// box ticked, the new key's cuts generated and shown once, Done) to the new key
// recorded. The virtual hands factory-reset the garage entry, started from its page with
// them: the runner follows each step by itself, through the hub and at the twin, to the
// codes read back. The front door's rekey, by the hands making a classic mistake, stops
// for a locksmith and shows the hand-over. Every screen fits the phone; each step's
// screenshot is kept.
func TestBrowserProcedures(t *testing.T) {
	if os.Getenv("LATCHKEY_TEST_CHROMIUM") == "" {
		t.Skip("set LATCHKEY_TEST_CHROMIUM=/usr/bin/chromium to run the browser tests (apt-get install chromium)")
	}
	t.Chdir(t.TempDir())
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	done := make(chan error, 1)
	go func() {
		done <- m.Demo(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler), demoTimings{Step: time.Second, Speed: 5, Hands: 3 * time.Second})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("the demo stopped with %v", err)
		}
	})
	link := regexp.MustCompile(`http://\S+/login/link/\S+`)
	for deadline := time.Now().Add(time.Minute); !link.MatchString(out.String()); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the demo printed no sign-in link within a minute:\n%s", out.String())
		}
	}
	signIn := link.FindString(out.String())
	base := signIn[:strings.Index(signIn, "/login/")]
	ph := NewPhone(t, signIn, 4*time.Minute)
	ph.Do(chromedp.WaitVisible(`nav a[href="/procedures"]`))
	lockID := func(name string) string {
		t.Helper()
		id := Eval[string](ph, fmt.Sprintf(`(() => { const a = [...document.querySelectorAll(".card.lock a.title")].find(a => a.textContent.trim() === %q); return a ? a.getAttribute("href") : "" })()`, name))
		if id == "" {
			t.Fatalf("the dashboard has no lock named %s", name)
		}
		return id
	}

	// The side door's rekey, by a person: from the lock's page, every step tapped.
	side := lockID("Side door")
	ph.Do(chromedp.Click(`.card.lock a.title[href="`+side+`"]`), chromedp.WaitVisible(`#start-procedure`),
		chromedp.ScrollIntoView(`#procedures`))
	ph.Fits("rekey-00-lock")
	ph.Do(chromedp.Click(`#start-procedure input[name=kind][value=rekey]`), chromedp.Click(`#start-procedure button[type=submit]`),
		chromedp.WaitVisible(`#run`))
	// The same run on a laptop: while the phone is half way through the first step, the
	// laptop reports it. The phone says the run moved on rather than reloading under the
	// person's thumb, and a Done tapped on the old step says who did it.
	ph.Do(chromedp.Click(`#step-form input[type=checkbox]`))
	laptop := demoLaptop(t, base, out.String())
	run := Eval[string](ph, `document.getElementById("run").dataset.path`)
	laptop.post(run+"/step", url.Values{"step": {"ready"}, "outcome": {"done"}, "attest": {"working_key", "smartkey_tool", "new_key", "door_open"}})
	ph.Do(chromedp.WaitVisible(`#moved-on`))
	ph.Fits("rekey-00-moved-on")
	for Eval[bool](ph, `!!document.querySelector("#step-form input[type=checkbox]:not(:checked)")`) {
		ph.Do(chromedp.Click(`#step-form input[type=checkbox]:not(:checked)`))
	}
	ph.Do(chromedp.Click(`#done`))
	ph.Until(`!!document.getElementById("already")`, 30*time.Second)
	if already := ph.Get(chromedp.Text(`#already`)); !strings.Contains(already, "“Get ready” was already done by alex") {
		t.Errorf("a Done tapped on a step done elsewhere says: %q", already)
	}
	ph.Fits("rekey-00-already")
	steps := walk(t, ph, "rekey")
	if len(steps) < 7 || !strings.Contains(steps[0], "Step 2 of 9: The new key's cuts") {
		t.Fatalf("the rekey's steps: %q", steps)
	}
	outcome := ph.Get(chromedp.Text(`#outcome`))
	if !strings.Contains(outcome, "Finished") || !strings.Contains(outcome, "done, every step confirmed") {
		t.Fatalf("the rekey ended with:\n%s", outcome)
	}
	ph.Do(chromedp.Navigate(base+side), chromedp.WaitVisible(`#key`))
	if key := ph.Get(chromedp.Text(`#key`)); !strings.Contains(key, "New key for Side door") {
		t.Errorf("the side door's key after the rekey:\n%s", key)
	}

	// The garage entry's factory reset, by the virtual hands: the runner follows them.
	ph.Do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`.card.lock`))
	garage := lockID("Garage entry")
	ph.Do(chromedp.Click(`.card.lock a.title[href="`+garage+`"]`), chromedp.WaitVisible(`#start-procedure`),
		chromedp.Click(`#start-procedure input[name=kind][value=reset]`), chromedp.Click(`#start-procedure input[name=hands]`),
		chromedp.ScrollIntoView(`#procedures`))
	ph.Fits("reset-00-lock")
	ph.Do(chromedp.Click(`#start-procedure button[type=submit]`), chromedp.WaitVisible(`#run`))
	// The hands take three seconds a step, the page looks every two and a half: it shows
	// most of them as they come, without a tap.
	steps = walk(t, ph, "reset")
	if len(steps) < 4 {
		t.Fatalf("the reset's page followed only %q", steps)
	}
	if outcome := ph.Get(chromedp.Text(`#outcome`)); !strings.Contains(outcome, "Finished") {
		t.Fatalf("the reset ended with:\n%s", outcome)
	}
	history := ph.Get(chromedp.Text(`#history`))
	for _, want := range []string{"Take it off the hub", "Check the reset took", "Put it back on the hub", "Codes read back", "virtual hands (sim)", "procedure engine"} {
		if !strings.Contains(history, want) {
			t.Errorf("the reset's history does not say %q:\n%s", want, history)
		}
	}

	// The front door's rekey, by the virtual hands making the classic mistake: the new
	// key not fully inserted scrambles the cylinder, and the run stops for a locksmith,
	// its page the hand-over.
	ph.Do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`.card.lock`))
	front := lockID("Front door")
	ph.Do(chromedp.Click(`.card.lock a.title[href="`+front+`"]`), chromedp.WaitVisible(`#start-procedure`),
		chromedp.Click(`#start-procedure input[name=kind][value=rekey]`), chromedp.Click(`#start-procedure input[name=hands]`),
		chromedp.SetValue(`#start-procedure select[name=mistake]`, "key_not_full"), chromedp.Click(`#start-procedure button[type=submit]`),
		chromedp.WaitVisible(`#run`))
	walk(t, ph, "mistake")
	report := ph.Get(chromedp.Text(`#escalation`))
	for _, want := range []string{"Call a locksmith", "the cylinder is scrambled", "What was tried", "How the lock was left", "House key", "Call 1-800-327-5625"} {
		if !strings.Contains(report, want) {
			t.Errorf("the escalation does not say %q:\n%s", want, report)
		}
	}
}

// laptop is a second device signed in to the demo, posting the runner's forms.
type laptop struct {
	t      *testing.T
	base   string
	client *http.Client
}

// demoLaptop signs in to the demo as its owner, with the password the demo printed.
func demoLaptop(t *testing.T, base, printed string) *laptop {
	t.Helper()
	_, password, _ := strings.Cut(printed, "with the password ")
	password, _, _ = strings.Cut(password, "\n")
	jar, _ := cookiejar.New(nil)
	l := &laptop{t: t, base: base, client: &http.Client{Jar: jar}}
	body, _ := json.Marshal(map[string]string{"name": "alex", "password": password})
	resp, err := l.client.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in to the demo: %s", resp.Status)
	}
	return l
}

// post sends a form as the runner's page does, and wants it taken.
func (l *laptop) post(path string, form url.Values) {
	l.t.Helper()
	resp, err := l.client.PostForm(l.base+path, form)
	if err != nil {
		l.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `role="alert"`) {
		l.t.Fatalf("POST %s: %s\n%s", path, resp.Status, page)
	}
}

// walk taps through a run on the runner page until it ends, a screenshot of each step;
// it returns each step's heading as the page showed it ("Step 2 of 9: The new key's
// cuts"). A step the person does has its boxes ticked one tap each, the new key's cuts
// generated, and Done tapped; a step Latchkey or the virtual hands do is waited for:
// the page moves on by itself.
func walk(t *testing.T, ph *Phone, name string) []string {
	t.Helper()
	var seen []string
	for i := 0; i < 100; i++ {
		ph.Do(chromedp.WaitVisible(`#run`))
		status := Eval[string](ph, `document.getElementById("run").dataset.status`)
		if status != "active" {
			ph.Fits(fmt.Sprintf("%s-%02d-%s", name, len(seen)+1, status))
			return seen
		}
		version := Eval[string](ph, `document.getElementById("run").dataset.version`)
		heading := ph.Get(chromedp.Text(`#progress span`)) + ": " + ph.Get(chromedp.Text(`h1.step-title`))
		if len(seen) == 0 || seen[len(seen)-1] != heading {
			seen = append(seen, heading)
			ph.Fits(fmt.Sprintf("%s-%02d-%s", name, len(seen), Eval[string](ph, `document.getElementById("run").dataset.step`)))
		}
		if Eval[bool](ph, `!!document.getElementById("step-form")`) {
			for Eval[bool](ph, `!!document.querySelector("#step-form input[type=checkbox]:not(:checked)")`) {
				ph.Do(chromedp.Click(`#step-form input[type=checkbox]:not(:checked)`))
			}
			if Eval[bool](ph, `!!document.querySelector("#step-form input[name=bitting_from][value=generate]")`) {
				ph.Do(chromedp.Click(`#step-form input[name=bitting_from][value=generate]`))
			}
			ph.Do(chromedp.Click(`#done`))
		}
		// The next screen: after Done, or once the page moved on by itself.
		ph.Until(fmt.Sprintf(`(() => { const r = document.getElementById("run"); return !!r && (r.dataset.version !== %q || r.dataset.status !== "active") })()`, version), 90*time.Second)
		if Eval[bool](ph, `!!document.getElementById("shown")`) {
			bitting := ph.Get(chromedp.Text(`#shown-bitting`))
			if !regexp.MustCompile(`^[1-7]{5}$`).MatchString(strings.TrimSpace(bitting)) {
				t.Errorf("the generated cuts shown: %q", bitting)
			}
			ph.Fits(fmt.Sprintf("%s-%02d-shown", name, len(seen)))
		}
	}
	t.Fatalf("%s: still going after 100 screens: %q", name, seen)
	return nil
}
