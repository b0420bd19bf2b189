package main_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	main "github.com/latchkey/latchkey/cmd/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// Done when: in real headless Chromium, sign in, add a lock, add a person and a code, see
// both on the dashboard, reveal the code (and find the reveal in the audit log, said as a
// sentence), sign
// out. Screenshots of the dashboard and of a lock page go to LATCHKEY_SCREENSHOTS (or the
// test's temporary directory), and the test logs where.
func TestBrowser(t *testing.T) {
	chrome := os.Getenv("LATCHKEY_TEST_CHROMIUM")
	if chrome == "" {
		t.Skip("set LATCHKEY_TEST_CHROMIUM=/usr/bin/chromium to run the browser test (apt-get install chromium)")
	}
	shots := os.Getenv("LATCHKEY_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := vault.Open(filepath.Join(dir, "vault.key"))
	m := main.NewMain()
	svc := &latchkey.Service{Store: db, Vault: v, Models: main.Rules(), Clock: latchkey.SystemClock{}}
	srv := m.NewServer(svc, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	base := srv.URL()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(412, 915), // a phone
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first call starts the browser and must not carry a timeout; later ones may.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shot := func() []byte {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// A fresh server asks for the owner's account.
	do(chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ana"),
		chromedp.SendKeys(`input[name=password]`, "correct horse battery"),
		chromedp.Submit(`form[action="/setup"]`),
		chromedp.WaitVisible(`#sign-out`))
	// Add a lock (a new site and door on the way).
	do(chromedp.SendKeys(`input[name=site_name]`, "Maple Street"),
		chromedp.SendKeys(`input[name=door]`, "Front door"),
		chromedp.SendKeys(`form[action="/locks"] input[name=name]`, "Deadbolt"),
		chromedp.SetValue(`select[name=model_id]`, "916"),
		chromedp.Submit(`form[action="/locks"]`),
		chromedp.WaitVisible(`.card.lock`))
	// Add a person.
	do(chromedp.Navigate(base+"/people"),
		chromedp.SendKeys(`form[action="/people"] input[name=name]`, "Ana Ruiz"),
		chromedp.Submit(`form[action="/people"]`),
		chromedp.WaitVisible(`#people`))
	// Add a code for her on the lock; Latchkey generates it and shows it once.
	do(chromedp.Navigate(base+"/codes"),
		chromedp.SendKeys(`input[name=label]`, "Ana's code"),
		chromedp.Click(`input[name=lock_id]`),
		chromedp.Click(`input[name=confirmed]`),
		chromedp.Submit(`form[action="/codes"]`),
		chromedp.WaitVisible(`#new-pin`))
	pin := get(chromedp.Text(`#new-pin`))
	// Both on the dashboard.
	do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`.card.lock`))
	codesText := get(chromedp.Text(`#locks`))
	dashboard := shot()
	// The dashboard updates without a reload when the lock reports an unlock by her code.
	do(chromedp.Poll[chromedp.Void](`document.body.dataset.live === "open"`))
	bg := latchkey.NewContextWithActor(context.Background(), "test")
	if _, err := svc.UpdateLock(bg, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordDeviceEvent(bg, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 1}); err != nil {
		t.Fatal(err)
	}
	do(chromedp.Poll[chromedp.Void](`document.getElementById("live").innerText.includes("Unlocked by Ana Ruiz's code")`))
	// Reveal the code on the lock's page (htmx swaps the digits in).
	do(chromedp.Click(`.card.lock a.title`), chromedp.WaitVisible(`button.reveal`))
	lockPage := shot()
	do(chromedp.Click(`button.reveal`), chromedp.WaitVisible(`.pin.revealed`))
	revealed := get(chromedp.Text(`.pin.revealed`))
	// The reveal is in the audit log.
	do(chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(`#audit`))
	audit := get(chromedp.Text(`#audit`))
	// Sign out: back to signing in.
	do(chromedp.Click(`#sign-out`), chromedp.WaitVisible(`form[action="/login"]`))
	afterSignOut := get(chromedp.Location())

	if len(strings.TrimSpace(pin)) < 4 {
		t.Fatalf("no code shown after adding it: %q", pin)
	}
	if !strings.Contains(codesText, "Deadbolt") || !strings.Contains(codesText, "Ana's code · Ana Ruiz") {
		t.Errorf("the dashboard does not show the lock and the code:\n%s", codesText)
	}
	if strings.TrimSpace(revealed) != strings.TrimSpace(pin) {
		t.Errorf("revealed %q, added %q", revealed, pin)
	}
	if !strings.Contains(audit, "ana revealed code 1 (Ana's code)") {
		t.Errorf("the reveal is not in the audit log:\n%s", audit)
	}
	if !strings.Contains(afterSignOut, "/login") {
		t.Errorf("after signing out the browser is at %s", afterSignOut)
	}
	for name, img := range map[string][]byte{"dashboard.png": dashboard, "lock.png": lockPage} {
		path := filepath.Join(shots, name)
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}
