package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	main "github.com/latchkey/latchkey/cmd/latchkey"
	"github.com/latchkey/latchkey/keying"
)

// result is one run of the command line.
type result struct {
	status         int
	stdout, stderr string
}

// runCLI runs latchkey in-process with args and stdin.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	m := main.NewMain()
	var out, errOut bytes.Buffer
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &errOut
	status := m.Run(context.Background(), args)
	return result{status, out.String(), errOut.String()}
}

func decode(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
}

type fact struct {
	Value       json.RawMessage `json:"value"`
	Sources     []string        `json:"sources"`
	Unconfirmed bool            `json:"unconfirmed"`
}

// Done when: `latchkey models show 916 --json` shows 30 codes, 4 to 8 digits, 3 wrong
// codes in a minute lock the keypad for 60 s, touchscreen, Z-Wave and Zigbee, reset R1,
// each with its source (kwikset-facts §3.1, §3.2, §3.5, §3.8).
func TestModelsShow916(t *testing.T) {
	r := runCLI(t, "", "models", "show", "916", "--json")
	if r.status != 0 {
		t.Fatalf("status %d: %s", r.status, r.stderr)
	}
	var view struct {
		Model     map[string]json.RawMessage `json:"model"`
		Sequences map[string]json.RawMessage `json:"sequences"`
		Sources   map[string]json.RawMessage `json:"sources"`
	}
	decode(t, r, &view)
	want := map[string]string{
		"max_user_codes": `30`,
		"code_min":       `4`,
		"code_max":       `8`,
		"lockout":        `{"attempts":3,"window_s":60,"duration_s":60}`,
		"keypad":         `"touchscreen"`,
		"radios":         `["zwave","zigbee"]`,
		"reset":          `"R1"`,
	}
	factOf := func(field string) fact {
		var f fact
		if err := json.Unmarshal(view.Model[field], &f); err != nil {
			t.Fatalf("%s: %v", field, err)
		}
		return f
	}
	for field, value := range want {
		f := factOf(field)
		var compact bytes.Buffer
		if err := json.Compact(&compact, f.Value); err != nil || compact.String() != value {
			t.Errorf("%s = %s, want %s", field, compact.String(), value)
		}
		if len(f.Sources) == 0 {
			t.Errorf("%s has no source", field)
		}
		for _, tag := range f.Sources {
			if view.Sources[tag] == nil {
				t.Errorf("%s cites %s, which the output does not describe", field, tag)
			}
		}
	}
	for _, variant := range []string{"zwave", "zigbee"} {
		if f := factOf(variant); len(f.Value) < 3 || len(f.Sources) == 0 {
			t.Errorf("%s variant ids missing or unsourced: %+v", variant, f)
		}
	}
	if view.Sequences["R1"] == nil {
		t.Error("R1 reset sequence not included")
	}
}

func TestModelsShowHuman(t *testing.T) {
	r := runCLI(t, "", "models", "show", "909")
	if r.status != 0 {
		t.Fatalf("status %d: %s", r.status, r.stderr)
	}
	// §3.2: the 909's capacity is unconfirmed; the output says what is assumed.
	if !strings.Contains(r.stdout, "User codes:") || !strings.Contains(r.stdout, "unconfirmed") || !strings.Contains(r.stdout, "Latchkey assumes 4") {
		t.Errorf("909 output does not show its unconfirmed capacity and the assumption:\n%s", r.stdout)
	}
}

func TestModelsLs(t *testing.T) {
	r := runCLI(t, "", "models", "ls")
	for _, want := range []string{"916", "smartkey", "halo-keypad", "?"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ls lacks %q", want)
		}
	}
	var models []map[string]any
	decode(t, runCLI(t, "", "models", "ls", "--json"), &models)
	if len(models) < 20 {
		t.Errorf("ls --json gave %d models", len(models))
	}
}

// Done when: `latchkey code check --model 910 2468 --existing 1357` is refused with a
// reason that names the same-button rule; the same check on a 914 passes (§3.2). A
// refused code exits 3, as it does with --lock; an unknown model is a failure (1).
func TestCodeCheck(t *testing.T) {
	r := runCLI(t, "", "code", "check", "--model", "910", "2468", "--existing", "1357")
	if r.status != 3 || !strings.Contains(r.stderr, "five-button keypad") || !strings.Contains(r.stderr, "same buttons") {
		t.Errorf("910: status %d, stderr %q; want 3 naming the same-button rule", r.status, r.stderr)
	}
	if r := runCLI(t, "", "code", "check", "--model", "916", "12"); r.status != 3 {
		t.Errorf("a code too short for the 916: status %d, want 3 (%s)", r.status, r.stderr)
	}
	if r := runCLI(t, "", "code", "check", "--model", "nosuch", "482913"); r.status != 1 {
		t.Errorf("an unknown model: status %d, want 1 (%s)", r.status, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "2468") || strings.Contains(r.stderr+r.stdout, "1357") {
		t.Error("the output repeats a code")
	}
	r = runCLI(t, "", "code", "check", "--model", "914", "2468", "--existing", "1357")
	if r.status != 0 || !strings.Contains(r.stdout, "Accepted") {
		t.Errorf("914: status %d, out %q err %q; want accepted", r.status, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "code", "check", "--model", "910", "2468", "--existing", "1357", "--json")
	var body struct {
		Error struct{ Code, Message string }
	}
	decode(t, r, &body)
	if r.status != 3 || body.Error.Code != "unsafe" || !strings.Contains(body.Error.Message, "five-button") {
		t.Errorf("--json refusal: status %d body %+v", r.status, body)
	}
	// A code typed on standard input stays out of the command line.
	r = runCLI(t, "583920\n", "code", "check", "--model", "916", "-")
	if r.status != 0 {
		t.Errorf("stdin code: status %d: %s", r.status, r.stderr)
	}
}

func TestCodeGenerate(t *testing.T) {
	var view struct {
		Code string `json:"code"`
	}
	r := runCLI(t, "", "code", "generate", "--model", "910", "--existing", "1357", "--json")
	decode(t, r, &view)
	if r.status != 0 || len(view.Code) != 6 {
		t.Fatalf("status %d code %q", r.status, view.Code)
	}
	r = runCLI(t, "", "code", "check", "--model", "910", view.Code, "--existing", "1357")
	if r.status != 0 {
		t.Errorf("generated code refused by check: %s", r.stderr)
	}
	if r := runCLI(t, "", "code", "generate", "--model", "914c"); r.status != 1 {
		t.Errorf("code generate on the Convert: status %d, want 1", r.status)
	}
}

// Done when: `latchkey key check 17131` is refused, `latchkey key check 35242` passes.
func TestKeyCheck(t *testing.T) {
	if r := runCLI(t, "", "key", "check", "17131"); r.status != 1 || !strings.Contains(r.stderr, "depth 7") {
		t.Errorf("17131: status %d stderr %q", r.status, r.stderr)
	}
	if r := runCLI(t, "", "key", "check", "35242"); r.status != 0 || !strings.Contains(r.stdout, "valid KW1") {
		t.Errorf("35242: status %d out %q err %q", r.status, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", "key", "check", "35242", "--model", "916"); r.status != 1 {
		t.Errorf("checking a key against a keypad model: status %d", r.status)
	}
}

// Done when: `latchkey key generate --count 1000 --json` gives 1000 distinct valid bittings.
func TestKeyGenerate(t *testing.T) {
	r := runCLI(t, "", "key", "generate", "--count", "1000", "--json")
	var view struct {
		Bittings []string `json:"bittings"`
	}
	decode(t, r, &view)
	seen := map[string]bool{}
	for _, b := range view.Bittings {
		if _, err := keying.KW1.Parse(b); err != nil || seen[b] {
			t.Fatalf("bitting %s invalid (%v) or repeated", b, err)
		}
		seen[b] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct bittings, want 1000", len(seen))
	}
	r = runCLI(t, "", "key", "generate", "--count", "3", "--avoid", "35242,46353")
	if r.status != 0 || len(strings.Fields(r.stdout)) != 3 {
		t.Fatalf("generate --count 3 --avoid: status %d, output %q; want three bittings", r.status, r.stdout)
	}
	for _, b := range strings.Fields(r.stdout) {
		if keying.Near(keying.Bitting(b), "35242") || keying.Near(keying.Bitting(b), "46353") {
			t.Errorf("generated %s near an avoided bitting", b)
		}
	}
	if r := runCLI(t, "", "key", "generate", "--avoid", "17131"); r.status != 1 || !strings.Contains(r.stderr, "--avoid 17131") {
		t.Errorf("bad --avoid: status %d stderr %q", r.status, r.stderr)
	}
}

// Done when: `latchkey key draw 35242` writes well-formed SVG whose cut depths match the
// depth table (the geometry itself is tested in package keying).
func TestKeyDraw(t *testing.T) {
	r := runCLI(t, "", "key", "draw", "35242")
	if r.status != 0 {
		t.Fatalf("status %d: %s", r.status, r.stderr)
	}
	var doc struct {
		XMLName xml.Name
		Bitting string `xml:"data-bitting,attr"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.XMLName.Local != "svg" || doc.Bitting != "35242" {
		t.Fatalf("not an SVG of 35242: %v %+v", err, doc)
	}
	file := filepath.Join(t.TempDir(), "key.svg")
	if r := runCLI(t, "", "key", "draw", "35242", "-o", file); r.status != 0 {
		t.Fatalf("draw -o: %s", r.stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, []byte(r.stdout)) {
		t.Errorf("file differs from standard output (%v)", err)
	}
}

func TestIdentify(t *testing.T) {
	r := runCLI(t, "", "models", "identify", "--keypad", "touchscreen", "--radio", "zwave", "--handle", "deadbolt", "--json")
	var view struct {
		Candidates []struct {
			Model   string   `json:"model"`
			Reasons []string `json:"reasons"`
		} `json:"candidates"`
	}
	decode(t, r, &view)
	if len(view.Candidates) == 0 || view.Candidates[0].Model != "916" || len(view.Candidates[0].Reasons) != 3 {
		t.Fatalf("identify: %+v", view.Candidates)
	}
	if r := runCLI(t, "", "models", "identify", "--keypad", "dial"); r.status != 1 || !strings.Contains(r.stderr, "choose one of") {
		t.Errorf("bad answer: status %d stderr %q", r.status, r.stderr)
	}
}

// On a terminal, identify asks its questions; a bad answer is asked again.
func TestIdentifyInteractive(t *testing.T) {
	m := main.NewMain()
	var out bytes.Buffer
	m.Stdin = strings.NewReader("buttons\n5-button\nzigbee\n\nlever\n")
	m.Stdout, m.Stderr, m.Interactive = &out, &out, true
	if status := m.Run(context.Background(), []string{"models", "identify"}); status != 0 {
		t.Fatalf("status %d: %s", status, out.String())
	}
	if !strings.Contains(out.String(), "Please answer one of") {
		t.Error("a bad answer was not asked again")
	}
	if !strings.Contains(out.String(), "1. SmartCode 912 lever") {
		t.Errorf("912 not first:\n%s", out.String())
	}
}

// SPEC §5: 2 for bad usage, with --json an error object on stdout.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"models", "bogus"},
		{"key", "check"},
		{"key", "check", "1", "2"},
		{"--no-such-flag"},
		{"code", "check", "1234"}, // --model is required
		{"key", "generate", "--count", "many"},
	} {
		r := runCLI(t, "", args...)
		if r.status != 2 || !strings.Contains(r.stderr, "--help") {
			t.Errorf("%v: status %d stderr %q; want 2 with a pointer to --help", args, r.status, r.stderr)
		}
	}
	r := runCLI(t, "", "key", "check", "--json")
	var body struct {
		Error struct{ Code, Message string }
	}
	decode(t, r, &body)
	if r.status != 2 || body.Error.Code != "invalid" {
		t.Errorf("--json usage error: status %d body %+v", r.status, body)
	}
	if r := runCLI(t, "", "models"); r.status != 0 || !strings.Contains(r.stdout, "identify") {
		t.Errorf("bare group: status %d, want 0 with its help", r.status)
	}
}

func TestNotFound(t *testing.T) {
	r := runCLI(t, "", "models", "show", "be469", "--json")
	var body struct {
		Error struct{ Code, Message string }
	}
	decode(t, r, &body)
	if r.status != 1 || body.Error.Code != "not_found" {
		t.Errorf("status %d body %+v", r.status, body)
	}
}

func TestVersion(t *testing.T) {
	var v struct{ Version, Go string }
	decode(t, runCLI(t, "", "version", "--json"), &v)
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version %+v", v)
	}
}

// Help never prints a token or a database URL taken from the environment.
func TestHelpKeepsEnvironmentSecrets(t *testing.T) {
	t.Setenv("LATCHKEY_TOKEN", "lk_SECRET_TOKEN")
	t.Setenv("LATCHKEY_DB", "postgres://u:SECRET_PASSWORD@db/x")
	r := runCLI(t, "", "version", "--help")
	if strings.Contains(r.stdout+r.stderr, "SECRET") {
		t.Fatalf("help printed a secret:\n%s", r.stdout)
	}
}
