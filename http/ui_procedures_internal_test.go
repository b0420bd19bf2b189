package http

import (
	"regexp"
	"testing"
)

// A number to tap is made of a contact's digits only, whatever the text around them: a
// tel: link with 10 to 15 digits, or none.
func FuzzTelLink(f *testing.F) {
	for _, s := range []string{"Kwikset support: 1-800-327-5625", "+1 (866) 863-6584", "call 911", "javascript:alert(1) 1-800-327-5625", ""} {
		f.Add(s)
	}
	valid := regexp.MustCompile(`^tel:\+?[0-9]{10,15}$`)
	f.Fuzz(func(t *testing.T, text string) {
		if got := telLink(text); got != "" && !valid.MatchString(string(got)) {
			t.Fatalf("telLink(%q) = %q", text, got)
		}
	})
}

func TestTelLink(t *testing.T) {
	for text, want := range map[string]string{
		"Kwikset support: 1-800-327-5625":          "tel:18003275625",
		"Support (international): +1 949 672 4000": "tel:+19496724000",
		"Kwikset support online":                   "",
		"Case 12345":                               "",
	} {
		if got := string(telLink(text)); got != want {
			t.Errorf("telLink(%q) = %q, want %q", text, got, want)
		}
	}
}

// A wait is said in minutes and seconds.
func TestWaitText(t *testing.T) {
	for s, want := range map[int]string{0: "", 30: "30 seconds", 60: "1 minute", 61: "1 minute 1 second", 150: "2 minutes 30 seconds"} {
		if got := waitText(s); got != want {
			t.Errorf("waitText(%d) = %q, want %q", s, got, want)
		}
	}
}
