package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// MustModel returns a catalog model or fails the test.
func MustModel(tb testing.TB, id string) *catalog.Model {
	tb.Helper()
	m, err := catalog.Default().Model(id)
	if err != nil {
		tb.Fatalf("model %s: %v", id, err)
	}
	return m
}

// Every model named in kwikset-facts §3.1 and §7, and the SmartKey cylinder (§1), is in
// the catalog.
func TestCatalogCoversFacts(t *testing.T) {
	want := []string{"smartkey", "909", "910", "911", "912", "913", "914", "915", "916", "888",
		"917", "955", "954", "264", "260", "270", "620", "914c", "halo-keypad",
		"halo-touchscreen", "halo-touch", "aura", "halo-select", "aura-reach", "919"}
	c := catalog.Default()
	for _, id := range want {
		if _, err := c.Model(id); err != nil {
			t.Errorf("model %s missing: %v", id, err)
		}
	}
	if len(c.Models) != len(want) {
		t.Errorf("catalog has %d models, test knows %d: add the new ones here", len(c.Models), len(want))
	}
}

// kwikset-facts §3.1, §3.2, §3.5, §3.8: the 916.
func TestModel916(t *testing.T) {
	m := MustModel(t, "916")
	if !m.MaxUserCodes.Known || m.MaxUserCodes.Value != 30 || !slices.Contains(m.MaxUserCodes.Sources, "O1") {
		t.Errorf("max user codes = %+v, want 30 from O1", m.MaxUserCodes)
	}
	if m.CodeMin.Value != 4 || m.CodeMax.Value != 8 {
		t.Errorf("code length %d..%d, want 4..8", m.CodeMin.Value, m.CodeMax.Value)
	}
	want := catalog.Lockout{Attempts: 3, WindowS: 60, DurationS: 60}
	if !m.Lockout.Known || m.Lockout.Value != want || m.Lockout.Confidence != catalog.Official {
		t.Errorf("lockout = %+v, want %+v from the official manual (M2)", m.Lockout, want)
	}
	if m.Keypad.Value != catalog.KeypadTouchscreen {
		t.Errorf("keypad = %q, want touchscreen", m.Keypad.Value)
	}
	if !m.HasRadio(catalog.RadioZWave) || !m.HasRadio(catalog.RadioZigbee) {
		t.Errorf("radios = %v, want Z-Wave and Zigbee", m.Radios.Value)
	}
	if m.Reset.Value != "R1" || m.Reset.Confidence != catalog.Official {
		t.Errorf("reset = %+v, want R1 (official K1)", m.Reset)
	}
	if len(m.ZWave.Value) == 0 || len(m.Zigbee.Value) == 0 {
		t.Error("916 lacks its Z-Wave or Zigbee ids (§3.11)")
	}
}

// UNCONFIRMED facts stay unknown in the data; an assumption is never presented as a fact
// (kwikset-facts "How to read this page").
func TestUnconfirmedStaysUnknown(t *testing.T) {
	tests := []struct {
		model string
		fact  func(*catalog.Model) (known bool, assumed any)
		want  any
	}{
		// §3.2: 909 capacity conflicts (8 vs 4): unknown, the smaller assumed.
		{"909", func(m *catalog.Model) (bool, any) { return m.MaxUserCodes.Known, deref(m.MaxUserCodes.Assumed) }, 4},
		// §3.2: 888 code length unconfirmed.
		{"888", func(m *catalog.Model) (bool, any) { return m.CodeMin.Known, deref(m.CodeMin.Assumed) }, 4},
		// §2: depth 7 on SmartKey unconfirmed; assumed not allowed.
		{"smartkey", func(m *catalog.Model) (bool, any) { return m.Depth7.Known, deref(m.Depth7.Assumed) }, false},
		// §4: which models send Device Reset Locally is unconfirmed.
		{"916", func(m *catalog.Model) (bool, any) {
			return m.DeviceResetLocally.Known, deref(m.DeviceResetLocally.Assumed)
		}, false},
		// §3.5: the 917's reset flow was not found; nothing is assumed.
		{"917", func(m *catalog.Model) (bool, any) { return m.Reset.Known, deref(m.Reset.Assumed) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			known, assumed := tt.fact(MustModel(t, tt.model))
			if known {
				t.Fatal("fact is marked known; the facts page says UNCONFIRMED")
			}
			if assumed != tt.want {
				t.Fatalf("assumed = %v, want %v", assumed, tt.want)
			}
		})
	}
	if catalog.Default().Warranty.Periods.Known {
		t.Error("warranty periods marked known; §5 says the official text was not found")
	}
	m919 := MustModel(t, "919")
	for _, f := range []bool{m919.Keypad.Known, m919.Radios.Known, m919.MaxUserCodes.Known, m919.Reset.Known} {
		if f {
			t.Error("919 has a known fact; §3.1 says nothing was found")
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Every sequence a model refers to exists and every source tag resolves (§10).
func TestSequencesAndSourcesResolve(t *testing.T) {
	c := catalog.Default()
	for _, m := range c.Models {
		for _, id := range m.SequenceIDs() {
			if c.Sequences[id] == nil {
				t.Errorf("model %s refers to missing sequence %q", m.ID, id)
			}
		}
		for _, tag := range m.SourceTags() {
			if c.Sources[tag] == nil {
				t.Errorf("model %s cites unknown source %q", m.ID, tag)
			}
		}
	}
	// §3.5 R1: the official reset takes about 30 s of holding Program.
	r1 := c.Sequences["R1"]
	if r1 == nil || !slices.ContainsFunc(r1.Steps, func(s catalog.Step) bool { return s.WaitS == 30 }) {
		t.Errorf("R1 lacks its 30-second hold: %+v", r1)
	}
	// §1.2: the rekey sequence turns the working key 90° and the new key 180°.
	rekey := c.Sequences["rekey"]
	text := ""
	for _, s := range rekey.Steps {
		text += s.Do + "\n"
	}
	for _, want := range []string{"90°", "SmartKey tool", "180°", "three times"} {
		if !strings.Contains(text, want) {
			t.Errorf("rekey sequence lacks %q", want)
		}
	}
}

func TestParseRejectsBrokenData(t *testing.T) {
	sources := []byte("K1: {class: official, title: t}\n")
	seqs := []byte("R1: {name: r, src: [K1], steps: [{do: x}]}\n")
	tests := []struct {
		name   string
		models string
		want   string // what the error must say
	}{
		{"ErrUnknownSource", `models: [{id: a, name: A, kind: electronic, keypad: {v: none, src: [NOPE]}}]`, `model a, keypad: unknown source tag "NOPE"`},
		{"ErrBothKnownAndUnconfirmed", `models: [{id: a, name: A, kind: electronic, keypad: {v: none, unconfirmed: x}}]`, "either v or unconfirmed, not both"},
		{"ErrNeither", `models: [{id: a, name: A, kind: electronic, keypad: {src: [K1]}}]`, "a fact needs v or unconfirmed"},
		{"ErrAssumeOnKnown", `models: [{id: a, name: A, kind: electronic, max_user_codes: {v: 3, assume: 2}}]`, "assume is only for unconfirmed facts"},
		{"ErrUnknownSequence", `models: [{id: a, name: A, kind: electronic, reset: {v: R9, src: [K1]}}]`, `model a: unknown sequence "R9"`},
		{"ErrDuplicateAlias", `models: [{id: a, name: A, kind: electronic}, {id: b, name: B, kind: electronic, aliases: [A]}]`, `model b: name "A" is already used by model a`},
		{"ErrBadKind", `models: [{id: a, name: A, kind: magic}]`, `kind "magic" is neither mechanical nor electronic`},
		{"ErrBadZWaveID", `models: [{id: a, name: A, kind: electronic, zwave: {v: [{type: "1", id: "0x0001"}], src: [K1]}}]`, "Z-Wave id 1/0x0001 is not two 0xhhhh values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Parse([]byte(tt.models), seqs, sources)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	c := catalog.Default()
	t.Run("ByName", func(t *testing.T) {
		for _, name := range []string{"916", "SmartCode 916", "Kwikset 916", "smartcode-916", "HC620", "home connect 620", "Halo Select Plus"} {
			if _, err := c.Model(name); err != nil {
				t.Errorf("Model(%q): %v", name, err)
			}
		}
		_, err := c.Model("schlage be469")
		if latchkey.ErrorCode(err) != latchkey.ENOTFOUND || !strings.Contains(latchkey.ErrorMessage(err), "models identify") {
			t.Errorf("unknown model: %v, want not_found pointing at identify", err)
		}
	})
	// §3.11 Z-Wave ids under manufacturer 0x0090.
	t.Run("ByZWave", func(t *testing.T) {
		tests := []struct {
			mfr, typ, id uint16
			want         string
		}{
			{0x0090, 0x0001, 0x0642, "916"},
			{144, 3, 0x0642, "916"}, // zwave-js sends decimal numbers
			{0x0090, 0x0003, 0x0541, "888"},
			{0x0090, 0x0811, 0x23a8, "620"},
			{0x0090, 0x0003, 0x0446, "914c"},
			{0x0090, 0x0003, 0x0742, "954"},
		}
		for _, tt := range tests {
			got := c.ByZWave(tt.mfr, tt.typ, tt.id)
			if len(got) != 1 || got[0].ID != tt.want {
				t.Errorf("ByZWave(%#x,%#x,%#x) = %v, want %s", tt.mfr, tt.typ, tt.id, ids(got), tt.want)
			}
		}
		if got := c.ByZWave(0x0129, 0x0001, 0x0642); len(got) != 0 {
			t.Errorf("a Yale manufacturer id matched %v", ids(got))
		}
		if got := c.ByZWave(0x0090, 0x0002, 0x0642); len(got) != 0 {
			t.Errorf("an unknown product type matched %v", ids(got))
		}
	})
	// protocols.md §2.1: Zigbee model ids, and which of them support PIN codes.
	t.Run("ByZigbee", func(t *testing.T) {
		m, id, ok := c.ByZigbee("SMARTCODE_DEADBOLT_5")
		if !ok || m.ID != "910" || !id.PINCodes {
			t.Errorf("SMARTCODE_DEADBOLT_5 = %v %+v, want 910 with PIN codes", m, id)
		}
		m, id, ok = c.ByZigbee("SMARTCODE_DEADBOLT_5_L")
		if !ok || m.ID != "910" || id.PINCodes {
			t.Errorf("SMARTCODE_DEADBOLT_5_L = %+v, want 910 without PIN codes", id)
		}
		if _, _, ok := c.ByZigbee("SMARTCODE_LEVER_5"); !ok {
			t.Error("SMARTCODE_LEVER_5 not found")
		}
		if _, _, ok := c.ByZigbee("smartcode_deadbolt_5"); ok {
			t.Error("Zigbee model ids are exact; a lower-case id matched")
		}
	})
	// §3.11 Matter: Kwikset vendor 0x1421.
	t.Run("ByMatter", func(t *testing.T) {
		if got := c.ByMatter(0x1421, 0x0081); len(got) != 1 || got[0].ID != "aura-reach" {
			t.Errorf("ByMatter(0x1421,0x0081) = %v, want aura-reach", ids(got))
		}
		if got := c.ByMatter(5153, 0x0042); len(got) != 1 || got[0].ID != "halo-select" {
			t.Errorf("ByMatter(5153,0x0042) = %v, want halo-select", ids(got))
		}
	})
}

func ids(ms []*catalog.Model) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// kwikset-facts §5: the warranty periods are unconfirmed, so the status is unknown and
// says so; the known terms (proof, exclusions) are given with their sources.
func TestWarrantyStatus(t *testing.T) {
	c := catalog.Default()
	bought := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	st := c.WarrantyStatus(MustModel(t, "916"), &bought, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if st.State != catalog.WarrantyUnknown || !strings.Contains(st.Reason, "unconfirmed") || !strings.Contains(st.Reason, "2025-03-01") {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(st.Proof, "receipt") || len(st.Exclusions) == 0 || !slices.Contains(st.Sources, "M5") {
		t.Fatalf("known terms missing: %+v", st)
	}
	if st := c.WarrantyStatus(MustModel(t, "916"), nil, time.Now()); !strings.Contains(st.Reason, "Record the purchase date") {
		t.Fatalf("no purchase date: %+v", st)
	}
}

// §3.5, §3.6, §3.7, §7 (Z1): the Z-Wave configuration parameters documented per model.
func TestZWaveParams(t *testing.T) {
	for id, want := range map[string][]int{"910": {40}, "916": {40}, "888": {36, 40}, "620": {1, 2, 3, 4, 10, 40, 46}} {
		m := MustModel(t, id)
		var got []int
		for p := range m.ZWaveParams.Value {
			got = append(got, p)
		}
		slices.Sort(got)
		if !m.ZWaveParams.Known || !slices.Equal(got, want) || m.ZWaveParams.Confidence != catalog.DeviceDB {
			t.Errorf("%s: zwave_params %v (%s), want %v from Z1", id, got, m.ZWaveParams.Confidence, want)
		}
	}
	if m := MustModel(t, "914c"); !m.ZWaveParams.IsZero() {
		t.Errorf("914c: zwave_params %+v; the facts document none", m.ZWaveParams)
	}
}

// kwikset-facts "How to read this page": a fact's confidence is the class of its best
// source. §3.4 A gives the 909's 4-8 digit codes from secondary sources quoting the FAQ
// (CB, GY), not from the manual (M1): a secondary fact.
func TestCodeLength909IsSecondary(t *testing.T) {
	m := MustModel(t, "909")
	for name, f := range map[string]catalog.Fact[int]{"code_min": m.CodeMin, "code_max": m.CodeMax} {
		if !f.Known || f.Confidence != catalog.Secondary || slices.Contains(f.Sources, "M1") {
			t.Errorf("909 %s = %+v; want a secondary fact from CB and GY, not cited to the manual M1", name, f)
		}
	}
}

// §7: every field of the 260 and the 270 is UNCONFIRMED, so none is known; the catalog
// keeps them unknown (form and keypad included) rather than guessing from the 264.
func TestModels260And270AllUnconfirmed(t *testing.T) {
	for _, id := range []string{"260", "270"} {
		data, err := json.Marshal(MustModel(t, id))
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		for name, v := range fields {
			if f, ok := v.(map[string]any); ok && f["unconfirmed"] != true {
				t.Errorf("%s %s is given as known (%v); §7 says every field is unconfirmed", id, name, f)
			}
		}
	}
}

// A fact cannot claim more confidence than its best source's class; the data may only
// lower it (for example "secondary, quoting Kwikset").
func TestParseRejectsOverclaimedConfidence(t *testing.T) {
	sources := []byte("K1: {class: official, title: t}\nS1: {class: secondary, title: s}\n")
	seqs := []byte("R1: {name: r, src: [K1], steps: [{do: x}]}\n")
	_, err := catalog.Parse([]byte(`models: [{id: a, name: A, kind: electronic, keypad: {v: none, src: [S1], conf: official}}]`), seqs, sources)
	if err == nil || !strings.Contains(err.Error(), `model a, keypad: confidence "official" is above its best source's class "secondary"`) {
		t.Fatalf("Parse: %v; want the overclaimed confidence refused", err)
	}
	_, err = catalog.Parse([]byte(`models: []`), []byte("R1: {name: r, src: [S1], conf: official, steps: [{do: x}]}\n"), sources)
	if err == nil || !strings.Contains(err.Error(), `sequence R1: confidence "official" is above`) {
		t.Fatalf("Parse: %v; want the overclaimed sequence refused", err)
	}
	c, err := catalog.Parse([]byte(`models: [{id: a, name: A, kind: electronic, keypad: {v: none, src: [K1], conf: secondary}}]`), seqs, sources)
	if err != nil || c.Models[0].Keypad.Confidence != catalog.Secondary {
		t.Fatalf("Parse: %v; a lowered confidence stays", err)
	}
}
