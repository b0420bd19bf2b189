package zwavejs

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestOpen_ErrBadURL(t *testing.T) {
	for _, u := range []string{"", "http://host:3000", "ws://", "zwave-js-ui:3000", "ws://user:hunter2@%zz"} {
		d := &Driver{URL: u}
		err := d.Open()
		if latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("Open(%q): got %v, want invalid", u, err)
		}
		if strings.Contains(latchkey.ErrorMessage(err), "hunter2") {
			t.Errorf("Open(%q): the error shows the password: %v", u, err)
		}
	}
}

func TestSafeURL(t *testing.T) {
	d := &Driver{URL: "wss://latchkey:hunter2@hub.local:3000/?token=abc"}
	if got := d.safeURL(); strings.Contains(got, "hunter2") || strings.Contains(got, "abc") || !strings.Contains(got, "hub.local:3000") {
		t.Fatalf("safeURL %q", got)
	}
}
