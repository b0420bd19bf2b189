package http_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// Records change in place over the API; a field the server derives, or a value the
// domain refuses, is a clear 400 that changes nothing.
func TestRecordEditsAPI(t *testing.T) {
	s, _ := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	var site latchkey.Site
	owner.must("PATCH", "/api/v1/sites/1", map[string]any{"address": "12 Maple St"}, &site, 200)
	if site.Name != "Maple Street" || site.Address != "12 Maple St" || site.TimeZone != "America/Chicago" {
		t.Fatalf("patched site %+v", site)
	}
	var body lkhttp.ErrorBody
	if got := owner.do("PATCH", "/api/v1/sites/1", map[string]any{"time_zone": "Mars/Olympus"}, &body); got != 400 || !strings.Contains(body.Error.Message, "time zone") {
		t.Fatalf("bad time zone: %d %+v", got, body)
	}
	if got := owner.do("PATCH", "/api/v1/sites/1", map[string]any{"id": 7}, &body); got != 400 || !strings.Contains(body.Error.Message, `"id"`) {
		t.Fatalf("a derived field: %d %+v", got, body)
	}
	var door latchkey.Door
	owner.must("PATCH", "/api/v1/doors/1", lkhttp.DoorPatch{Name: "Front door"}, &door, 200)
	if door.Name != "Front door" {
		t.Fatalf("renamed door %+v", door)
	}
	var p latchkey.Person
	owner.must("PATCH", "/api/v1/people/1", map[string]any{"email": "ana@example.com"}, &p, 200)
	if p.Name != "Ana" || p.Email != "ana@example.com" {
		t.Fatalf("patched person %+v", p)
	}
	if got := owner.do("PATCH", "/api/v1/people/1", map[string]any{"role": "landlord"}, &body); got != 400 {
		t.Fatalf("bad role: %d %+v", got, body)
	}
	if got := owner.do("PATCH", "/api/v1/people/99", map[string]any{"name": "X"}, &body); got != 404 {
		t.Fatalf("missing person: %d", got)
	}
	// Ana's only code is the lock's last way in: revoking her keeps it, and says why.
	var r latchkey.PersonRevocation
	owner.must("POST", "/api/v1/people/1/revoke", nil, &r, 200)
	if len(r.Revoked) != 0 || !strings.Contains(r.Kept[1], "no way in") {
		t.Fatalf("revoke Ana: %+v", r)
	}
}
