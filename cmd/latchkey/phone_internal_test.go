package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Phone is real headless Chromium at a phone's size (390×844), for the browser tests:
// every page it keeps is checked not to scroll sideways, and its screenshot is written
// to LATCHKEY_SCREENSHOTS (or the test's temporary directory).
type Phone struct {
	t     testing.TB
	ctx   context.Context
	Shots string // where the screenshots go
}

// NewPhone starts Chromium on base (the first navigation starts the browser, and must
// carry no timeout); its later actions time out after limit. Without
// LATCHKEY_TEST_CHROMIUM the test is skipped, saying how to run it.
func NewPhone(t *testing.T, base string, limit time.Duration) *Phone {
	t.Helper()
	chrome := os.Getenv("LATCHKEY_TEST_CHROMIUM")
	if chrome == "" {
		t.Skip("set LATCHKEY_TEST_CHROMIUM=/usr/bin/chromium to run the browser tests (apt-get install chromium)")
	}
	shots := os.Getenv("LATCHKEY_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(390, 844), // a phone
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// Headless windows are at least 500 pixels wide: the phone's viewport is emulated.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	t.Cleanup(cancel)
	t.Cleanup(func() { t.Logf("screenshots: %s", shots) })
	return &Phone{t: t, ctx: ctx, Shots: shots}
}

// Do runs the actions, failing the test on the first that fails.
func (p *Phone) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// Get runs an action that reads the page (chromedp.Text, chromedp.Location) and returns
// what it read.
func (p *Phone) Get(a chromedp.Action[string]) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, a)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// Eval evaluates a script expression in the page and returns its value.
func Eval[T any](p *Phone, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// Until waits until expr is true in the page, across the page's navigations (a form
// posted, a page that reloads itself), failing the test after timeout.
func (p *Phone) Until(expr string, timeout time.Duration) {
	p.t.Helper()
	var last error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		if p.ctx.Err() != nil {
			break
		}
	}
	p.t.Fatalf("still not %s after %s (last error: %v)", expr, timeout, last)
}

// Fits checks that the page does not scroll sideways, and keeps a screenshot of the
// whole page as name.png.
func (p *Phone) Fits(name string) {
	p.t.Helper()
	widths := Eval[[]int](p, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if len(widths) != 2 || widths[0] > widths[1] {
		p.t.Errorf("%s scrolls sideways: scrollWidth, innerWidth = %v", name, widths)
	}
	// Every link of the main navigation shows whole, none behind a sideways scroll.
	hidden := Eval[[]string](p, `(() => { const nav = document.querySelector('header nav'); if (!nav) return [];
		return [...nav.querySelectorAll('a')].filter(a => a.scrollWidth > a.clientWidth || a.getBoundingClientRect().right > nav.getBoundingClientRect().right + 1).map(a => a.textContent.trim()); })()`)
	if len(hidden) > 0 {
		p.t.Errorf("%s: navigation links cut or off screen: %v", name, hidden)
	}
	b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Shots, name+".png"), b, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
