package http

import "testing"

// After sign-in a person lands where they were going, on this site, and never anywhere
// else however the target is disguised.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/locks/3":              "/locks/3",
		"/codes?lock=2":         "/codes?lock=2",
		"/":                     "/",
		"":                      "/",
		"//evil.example":        "/",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/\\evil.example":       "/",
		"\\/evil.example":       "/",
		"/%2F%2Fevil.example":   "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"locks/3":               "/",
		"/ locks":               "/",
		"/locks/\u00e9":         "/",
		"/\x00/evil.example":    "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
