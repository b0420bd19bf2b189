package latchkey_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// A webhook's URL is refused unless it is an http or https URL with a host, no user name
// or password, no fragment and of sane length; each refusal says what to do.
func TestParseWebhookURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://example.com/hook?x=1": "https://example.com/hook?x=1",
		"  http://10.0.0.5:8080/in  ":  "http://10.0.0.5:8080/in",
		"https://[::1]:9000/":          "https://[::1]:9000/",
		"":                             "needs a URL",
		"example.com/hook":             "no scheme",
		"javascript:alert(1)":          "starts with https://",
		"file:///etc/passwd":           "starts with https://",
		"https://user:pw@example.com/": "user name or password",
		"https://user@example.com/":    "user name or password",
		"https://example.com/#frag":    "fragment",
		"https://example.com:99999/":   "not a port",
		"https://exa mple.com/":        "spaces or control characters",
		"https://example.com/\x00":     "spaces or control characters",
		"https://":                     "no host",
		"https://example.com/" + strings.Repeat("a", 2000): "longer than 2000",
	} {
		got, err := latchkey.ParseWebhookURL(raw)
		if strings.HasPrefix(want, "http") {
			if err != nil || got != want {
				t.Errorf("%q: %q %v, want %q", raw, got, err, want)
			}
			continue
		}
		if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), want) {
			t.Errorf("%q: %v, want a refusal saying %q", raw, err, want)
		}
	}
}

// Event kinds are read from repeated or comma-separated values, "all" being every kind;
// unknown ones are refused with the list to choose from.
func TestParseWebhookKinds(t *testing.T) {
	got, err := latchkey.ParseWebhookKinds([]string{"lock.jammed, code.set", "code.set"})
	if err != nil || !slices.Equal(got, []latchkey.WebhookKind{latchkey.HookCodeSet, latchkey.HookLockJammed}) {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := latchkey.ParseWebhookKinds([]string{"all"}); !slices.Equal(got, latchkey.WebhookKinds) || len(got) != 14 {
		t.Fatalf("all: %v", got)
	}
	if _, err := latchkey.ParseWebhookKinds([]string{"code.sett"}); !strings.Contains(latchkey.ErrorMessage(err), "lock.offline") {
		t.Fatalf("a typo: %v", err)
	}
	if _, err := latchkey.ParseWebhookKinds([]string{" , "}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("nothing: %v", err)
	}
}

// The backoff doubles from 5 s to an hour, within its jitter.
func TestWebhookBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 5: 80 * time.Second, 12: time.Hour, 31: time.Hour, 1000: time.Hour} {
		if lo, hi := latchkey.WebhookBackoff(n, 0), latchkey.WebhookBackoff(n, 1); lo != want*8/10 || hi != want*12/10 {
			t.Errorf("after attempt %d: %v to %v, want %v ±20%%", n, lo, hi, want)
		}
	}
}

// FuzzWebhookInput feeds the parsers of a webhook's URL and events anything: they never
// panic, what they accept is what a subscription may hold, and their refusals never
// echo more than a short piece of the input.
func FuzzWebhookInput(f *testing.F) {
	f.Add("https://example.com/hook", "code.set,lock.jammed")
	f.Add("http://user:pw@[::1]:0/#x", "all")
	f.Add("https://%zz", "code.set,,nope")
	f.Add("HTTPS://EXAMPLE.COM", "\xff")
	f.Fuzz(func(t *testing.T, raw, kinds string) {
		if u, err := latchkey.ParseWebhookURL(raw); err == nil {
			p, perr := url.Parse(u)
			if perr != nil || (p.Scheme != "http" && p.Scheme != "https") || p.User != nil || p.Hostname() == "" || len(u) > 2000 || strings.ContainsAny(u, " \n\r\t#") {
				t.Fatalf("accepted %q as %q", raw, u)
			}
			if again, err := latchkey.ParseWebhookURL(u); err != nil || again != u {
				t.Fatalf("%q parses to %q, then %q (%v)", raw, u, again, err)
			}
		} else if latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("%q: %v", raw, err)
		}
		got, err := latchkey.ParseWebhookKinds(strings.Split(kinds, ";"))
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID || len(latchkey.ErrorMessage(err)) > 600 {
				t.Fatalf("%q: %v", kinds, err)
			}
			return
		}
		for _, k := range got {
			if !slices.Contains(latchkey.WebhookKinds, k) {
				t.Fatalf("%q gave %q", kinds, k)
			}
		}
	})
}
