package http_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// The key pages do what the API does: add a key (its bitting checked, and never shown
// again but by a reveal), add a copy, record where a copy is, mark a key or a copy lost,
// after which the page lists the locks the loss exposes; a viewer may post none of it.
func TestUIKeyPages(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL()) // Ana (1); site 1, door 1, the Deadbolt (lock 1)
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	const houseBitting, backBitting = "61524", "15364"
	var seen []string // every page shown, to look for a bitting in

	keepPage := func(p page) page { seen = append(seen, p.body); return p }
	key := func(id int64) *latchkey.Key {
		t.Helper()
		k, err := svc.FindKeyByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	t.Run("Add", func(t *testing.T) {
		p := keepPage(uiGet(t, owner, "/keys"))
		mustContain(t, "the keys page", p.body, `action="/keys"`, `name="bitting" required autocomplete="off"`, `value="KW1"`, `<option value="1" >Ana</option>`)
		p = keepPage(uiPostOK(t, owner, "/keys", url.Values{"site_id": {"1"}, "label": {"House key"}, "keyway": {"KW1"}, "bitting": {houseBitting}, "holder_id": {"1"}}, "/keys/1?done=key-added"))
		mustContain(t, "the new key's page", p.body, "Key added.", "House key", "Maple Street", `href="/people/1"><strong>Ana</strong></a>`)
		if k := key(1); k.Label != "House key" || k.Keyway != "KW1" || k.SiteID != 1 || len(k.Copies) != 1 || k.Copies[0].HolderID != 1 || k.Copies[0].State != latchkey.CopyHeld {
			t.Fatalf("the added key: %+v", k)
		}
		if b, err := svc.RevealBitting(latchkey.NewContextWithPrincipal(ctx, latchkey.Principal{UserID: 1, Role: latchkey.UserOwner}), 1); err != nil || b != houseBitting {
			t.Fatalf("the added key's bitting: %q %v", b, err)
		}
	})
	t.Run("AddRefused", func(t *testing.T) {
		for name, tt := range map[string]struct {
			form url.Values
			want string
		}{
			"BadBitting": {url.Values{"site_id": {"1"}, "label": {"Bad key"}, "bitting": {"99799"}}, "A bitting is five depths from 1 to 6."},
			"EmptyLabel": {url.Values{"site_id": {"1"}, "label": {" "}, "bitting": {"24353"}}, "Key label is required."},
			"NoSite":     {url.Values{"label": {"Bad key"}, "bitting": {"24353"}}, "Choose a site."},
		} {
			t.Run(name, func(t *testing.T) {
				p := keepPage(uiDo(t, owner, "POST", "/keys", tt.form))
				if p.status != 400 {
					t.Fatalf("status %d, want 400", p.status)
				}
				mustContain(t, "the refused key", p.body, tt.want, `role="alert"`, `action="/keys"`)
				if b := tt.form.Get("bitting"); strings.Contains(p.body, b) {
					t.Errorf("the refused form shows the bitting %s again", b)
				}
				if tt.form.Get("label") == "Bad key" && !strings.Contains(p.body, `value="Bad key"`) {
					t.Error("the refused form lost the label")
				}
				if keys, _, _ := svc.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{}); len(keys) != 1 {
					t.Fatalf("%d keys after a refused one", len(keys))
				}
			})
		}
	})
	var spareID int64
	t.Run("Copies", func(t *testing.T) {
		p := keepPage(uiPostOK(t, owner, "/keys/1/copies", url.Values{"holder_id": {""}, "location": {"kitchen drawer"}}, "/keys/1?done=copy-added"))
		mustContain(t, "the key after adding a copy", p.body, "Copy added.", "spare kept at <strong>kitchen drawer</strong>")
		k := key(1)
		if len(k.Copies) != 2 || k.Copies[1].Location != "kitchen drawer" || k.Copies[1].HolderID != 0 {
			t.Fatalf("copies after adding a spare: %+v", k.Copies)
		}
		spareID = k.Copies[1].ID
		p = keepPage(uiDo(t, owner, "POST", "/keys/1/copies", url.Values{"holder_id": {""}, "location": {""}}))
		if p.status != 400 {
			t.Fatalf("a copy held by no one and kept nowhere: %d", p.status)
		}
		mustContain(t, "the refused copy", p.body, "Say who holds the copy")
		state := fmt.Sprintf("/keys/1/copies/%d/state", spareID)
		p = keepPage(uiPostOK(t, owner, state, url.Values{"state": {"to_return"}}, "/keys/1?done=copy-state"))
		mustContain(t, "the key after moving a copy", p.body, "Copy updated.", `<option value="to_return" selected>to be returned</option>`)
		if k := key(1); k.Copies[1].State != latchkey.CopyToReturn {
			t.Fatalf("the spare after setting its state: %+v", k.Copies[1])
		}
		p = keepPage(uiDo(t, owner, "POST", state, url.Values{"state": {"misplaced"}}))
		if p.status != 400 {
			t.Fatalf("an unknown copy state: %d", p.status)
		}
		mustContain(t, "the refused state", p.body, "Unknown copy state")
		if k := key(1); k.Copies[1].State != latchkey.CopyToReturn {
			t.Fatalf("a refused state changed the copy: %+v", k.Copies[1])
		}
	})
	t.Run("Lists", func(t *testing.T) {
		owner.must("PUT", "/api/v1/locks/1/key", map[string]any{"key_id": 1}, nil, 200)
		p := keepPage(uiGet(t, owner, "/keys"))
		mustContain(t, "the keys page", p.body, `href="/keys/1">House key</a>`, "KW1 · Maple Street · 2 copies", `Opens <a href="/locks/1">Deadbolt</a>.`)
		if strings.Contains(p.body, "<table") {
			t.Error("the keys page is a table again: it scrolls sideways on a phone")
		}
		p = keepPage(uiGet(t, owner, "/people/1"))
		mustContain(t, "Ana's page", p.body, `href="/keys/1">House key</a>`, `Opens <a href="/locks/1">Deadbolt</a>.`)
	})
	t.Run("KeyLost", func(t *testing.T) {
		p := keepPage(uiGet(t, owner, "/keys/1"))
		if strings.Contains(p.body, `id="exposure"`) {
			t.Fatal("a key nobody lost shows exposed locks")
		}
		mustContain(t, "the key's page", p.body, `<summary>Key lost…</summary>`, `action="/keys/1/lost"`)
		p = keepPage(uiPostOK(t, owner, "/keys/1/lost", url.Values{}, "/keys/1?done=key-lost"))
		mustContain(t, "the lost key's page", p.body, "The key is recorded as lost.", `id="exposure"`, `href="/locks/1#rekey">Deadbolt</a> <span class="badge bad">exposed</span>`,
			"latchkey lock rekey 1 --key NEW_KEY", "rekey the cylinder")
		if k := key(1); k.State != latchkey.KeyLost {
			t.Fatalf("the key after marking it lost: %s", k.State)
		}
		if l, _ := svc.FindLockByID(ctx, 1); l.Status != latchkey.LockExposed {
			t.Fatalf("the Deadbolt after its key was lost: %s", l.Status)
		}
	})
	t.Run("CopyLost", func(t *testing.T) {
		var back latchkey.Lock
		owner.must("POST", "/api/v1/locks", map[string]any{"door_id": 1, "name": "Back door", "model_id": "916"}, &back, 201)
		uiPostOK(t, owner, "/keys", url.Values{"site_id": {"1"}, "label": {"Back key"}, "bitting": {backBitting}, "holder_id": {"1"}}, "/keys/2?done=key-added")
		owner.must("PUT", fmt.Sprintf("/api/v1/locks/%d/key", back.ID), map[string]any{"key_id": 2}, nil, 200)
		copyID := key(2).Copies[0].ID
		p := keepPage(uiPostOK(t, owner, "/keys/2/lost", url.Values{"copy": {fmt.Sprint(copyID)}}, "/keys/2?done=copy-lost"))
		mustContain(t, "the key after losing a copy", p.body, "The copy is recorded as lost.", "A copy is lost", fmt.Sprintf(`href="/locks/%d">Back door</a>`, back.ID))
		if k := key(2); k.State != latchkey.KeyActive || k.Copies[0].State != latchkey.CopyLost {
			t.Fatalf("the key after losing a copy: %+v", k)
		}
		if l, _ := svc.FindLockByID(ctx, back.ID); l.Status != latchkey.LockExposed {
			t.Fatalf("the back door after a copy of its key was lost: %s", l.Status)
		}
	})
	t.Run("Viewer", func(t *testing.T) {
		viewer := signIn(t, ui, svc, "val", latchkey.UserViewer)
		p := keepPage(uiGet(t, viewer, "/keys/1"))
		for _, form := range []string{`action="/keys/1/copies`, `action="/keys/1/lost"`, `action="/keys/1/reveal"`} {
			if strings.Contains(p.body, form) {
				t.Errorf("a viewer sees the form %s", form)
			}
		}
		keepPage(uiGet(t, viewer, "/keys"))
		before := key(1)
		for path, form := range map[string]url.Values{
			"/keys": {"site_id": {"1"}, "label": {"Viewer key"}, "bitting": {"24353"}}, "/keys/1/copies": {"location": {"porch"}},
			fmt.Sprintf("/keys/1/copies/%d/state", spareID): {"state": {"returned"}}, "/keys/2/lost": {}, "/keys/1/reveal": {},
		} {
			if p := uiDo(t, viewer, "POST", path, form); p.status != 403 {
				t.Errorf("a viewer's POST %s: %d, want 403", path, p.status)
			}
		}
		after := key(1)
		if len(after.Copies) != len(before.Copies) || after.Copies[1].State != before.Copies[1].State || key(2).State != latchkey.KeyActive {
			t.Fatalf("the viewer's posts changed the keys: %+v", after)
		}
		if keys, _, _ := svc.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{}); len(keys) != 2 {
			t.Fatalf("%d keys after the viewer's posts", len(keys))
		}
	})
	t.Run("BittingOnlyInReveal", func(t *testing.T) {
		for _, path := range []string{"/", "/people", "/people/1", "/keys", "/keys/1", "/keys/2", "/locks/1", "/locks/2", "/codes", "/audit"} {
			keepPage(uiGet(t, owner, path))
		}
		for i, body := range seen {
			for _, b := range []string{houseBitting, backBitting} {
				if strings.Contains(body, b) {
					t.Errorf("page %d shows the bitting %s:\n%s", i, b, body)
				}
			}
		}
		p := uiDo(t, owner, "POST", "/keys/1/reveal", url.Values{}, "HX-Request", "true")
		if p.status != 200 || !strings.Contains(p.body, `<span class="pin revealed">`+houseBitting+`</span>`) {
			t.Fatalf("the reveal: %d %s", p.status, p.body)
		}
		p = uiDo(t, owner, "POST", "/keys/2/reveal", url.Values{})
		mustContain(t, "the reveal page", p.body, backBitting, `href="/keys/2">Back to the key</a>`)
	})
}
