// Package catalog holds Latchkey's catalog of Kwikset models: what each model is, which
// code rules, reset sequence and programming sequences apply to it, and where every fact
// comes from (docs/kwikset-facts.md). The data is embedded; Default returns it.
package catalog

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/latchkey/latchkey"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Kind separates mechanical cylinders from electronic locks.
type Kind string

// Kinds.
const (
	Mechanical Kind = "mechanical"
	Electronic Kind = "electronic"
)

// Keypad kinds.
const (
	KeypadNone        = "none"
	KeypadFiveButton  = "5-button"
	KeypadTenButton   = "10-button"
	KeypadTouchscreen = "touchscreen"
	KeypadMenu        = "kwikset-menu" // digits plus the Kwikset-logo button
	KeypadFingerprint = "fingerprint"
)

// Programming styles: how codes are added at the lock (facts §3.4).
const (
	ProgramPosition   = "position"     // 909/910/911/912: Program N times for slot N
	ProgramMastercode = "mastercode"   // 913/914/915/916: optional Mastercode
	ProgramMenu       = "kwikset-menu" // 955/264/917/620: Program or programming code, menu digit
	ProgramApp        = "app"          // Halo, Aura: the Kwikset app
	ProgramNone       = "none"         // no codes (Convert)
)

// Radio names.
const (
	RadioZWave  = "zwave"
	RadioZigbee = "zigbee"
	RadioWiFi   = "wifi"
	RadioBLE    = "ble"
	RadioMatter = "matter"
)

// Lockout is a wrong-code lockout rule: Attempts wrong codes within WindowS seconds
// disable the keypad for DurationS seconds (facts §3.8).
type Lockout struct {
	Attempts  int `yaml:"attempts" json:"attempts"`
	WindowS   int `yaml:"window_s" json:"window_s"`
	DurationS int `yaml:"duration_s" json:"duration_s"`
}

// ZWaveID is a Z-Wave product type and product id under Kwikset's manufacturer id 0x0090.
type ZWaveID struct {
	Type string `yaml:"type" json:"product_type"`
	ID   string `yaml:"id" json:"product_id"`
}

// ZigbeeID is a Zigbee model identifier as zigbee-herdsman-converters knows it, with the
// retail SKU and whether PIN codes are supported over Zigbee for it.
type ZigbeeID struct {
	Model    string `yaml:"model" json:"model"`
	SKU      string `yaml:"sku" json:"sku,omitempty"`
	PINCodes bool   `yaml:"pin_codes" json:"pin_codes"`
}

// MatterID is a Matter vendor id and product id.
type MatterID struct {
	VID string `yaml:"vid" json:"vendor_id"`
	PID string `yaml:"pid" json:"product_id"`
}

// Model is one catalog entry. Facts the catalog has nothing on for a model are zero
// Facts (not Known, no Assumed value).
type Model struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases" json:"aliases,omitempty"`
	Family  string   `yaml:"family" json:"family"`
	Kind    Kind     `yaml:"kind" json:"kind"`
	Note    string   `yaml:"note" json:"note,omitempty"`

	Form   Fact[string]   `yaml:"form" json:"form,omitzero"`
	Keypad Fact[string]   `yaml:"keypad" json:"keypad,omitzero"`
	Radios Fact[[]string] `yaml:"radios" json:"radios,omitzero"`

	// Mechanical (SmartKey) facts.
	SmartKeyHole            Fact[bool]   `yaml:"smartkey_hole" json:"smartkey_hole,omitzero"`
	Keyway                  Fact[string] `yaml:"keyway" json:"keyway,omitzero"`
	Pins                    Fact[int]    `yaml:"pins" json:"pins,omitzero"`
	Depth7                  Fact[bool]   `yaml:"depth7" json:"depth7,omitzero"`
	MasterKeyable           Fact[bool]   `yaml:"master_keyable" json:"master_keyable,omitzero"`
	RekeyRequiresWorkingKey Fact[bool]   `yaml:"rekey_requires_working_key" json:"rekey_requires_working_key,omitzero"`
	Rekey                   Fact[string] `yaml:"rekey" json:"rekey,omitzero"`

	// Electronic facts.
	KeywayFree          Fact[bool]       `yaml:"keyway_free" json:"keyway_free,omitzero"`
	MaxUserCodes        Fact[int]        `yaml:"max_user_codes" json:"max_user_codes,omitzero"`
	CodeMin             Fact[int]        `yaml:"code_min" json:"code_min,omitzero"`
	CodeMax             Fact[int]        `yaml:"code_max" json:"code_max,omitzero"`
	UniquePrefix        Fact[int]        `yaml:"unique_prefix" json:"unique_prefix,omitzero"`
	ForbiddenPrefixes   Fact[[]string]   `yaml:"forbidden_prefixes" json:"forbidden_prefixes,omitzero"`
	OneTimeCodes        Fact[bool]       `yaml:"one_time_codes" json:"one_time_codes,omitzero"`
	Fingerprints        Fact[int]        `yaml:"fingerprints" json:"fingerprints,omitzero"`
	Programming         Fact[string]     `yaml:"programming" json:"programming,omitzero"`
	ProgrammingTimeoutS Fact[int]        `yaml:"programming_timeout_s" json:"programming_timeout_s,omitzero"`
	Lockout             Fact[Lockout]    `yaml:"lockout" json:"lockout,omitzero"`
	Reset               Fact[string]     `yaml:"reset" json:"reset,omitzero"`
	RemoteReset         Fact[string]     `yaml:"remote_reset" json:"remote_reset,omitzero"`
	DeviceResetLocally  Fact[bool]       `yaml:"device_reset_locally" json:"device_reset_locally,omitzero"`
	DoorHanding         Fact[string]     `yaml:"door_handing" json:"door_handing,omitzero"`
	Batteries           Fact[string]     `yaml:"batteries" json:"batteries,omitzero"`
	AutoLockS           Fact[[]int]      `yaml:"auto_lock_s" json:"auto_lock_s,omitzero"`
	ZWave               Fact[[]ZWaveID]  `yaml:"zwave" json:"zwave,omitzero"`
	Zigbee              Fact[[]ZigbeeID] `yaml:"zigbee" json:"zigbee,omitzero"`
	Matter              Fact[[]MatterID] `yaml:"matter" json:"matter,omitzero"`

	// ZWaveParams are the Z-Wave configuration parameters documented for the model, by
	// number, with what each does (facts §3.5 40, §3.6 10, §3.7 36, §7 zwave_params).
	ZWaveParams Fact[map[int]string] `yaml:"zwave_params" json:"zwave_params,omitzero"`
}

// HasRadio reports whether the model is known to have the named radio.
func (m *Model) HasRadio(radio string) bool {
	return m.Radios.Known && slices.Contains(m.Radios.Value, radio)
}

// Step is one instruction of a sequence.
type Step struct {
	Do          string `yaml:"do" json:"do"`
	Expect      string `yaml:"expect" json:"expect,omitempty"`
	WaitS       int    `yaml:"wait_s" json:"wait_s,omitempty"`
	Caution     string `yaml:"caution" json:"caution,omitempty"`
	Unconfirmed string `yaml:"unconfirmed" json:"unconfirmed,omitempty"`
	When        string `yaml:"when" json:"when,omitempty"` // "connected": only for a lock on a hub
}

// Sequence is a maker's step sequence (a rekey, a reset, keypad programming) that
// procedures render as instructions.
type Sequence struct {
	ID         string     `yaml:"-" json:"id"`
	Name       string     `yaml:"name" json:"name"`
	Sources    []string   `yaml:"src" json:"sources"`
	Confidence Confidence `yaml:"conf" json:"confidence"`
	Note       string     `yaml:"note" json:"note,omitempty"`
	Steps      []Step     `yaml:"steps" json:"steps"`
	After      string     `yaml:"after" json:"after,omitempty"`
}

// Source is one entry of the facts page's source list (§10).
type Source struct {
	Tag   string     `yaml:"-" json:"tag"`
	Class Confidence `yaml:"class" json:"class"`
	Title string     `yaml:"title" json:"title"`
	URL   string     `yaml:"url" json:"url,omitempty"`
}

// Warranty holds the catalog's warranty terms (facts §5).
type Warranty struct {
	Periods      Fact[string]   `yaml:"periods" json:"periods,omitzero"`
	Transferable Fact[bool]     `yaml:"transferable" json:"transferable,omitzero"`
	Proof        Fact[string]   `yaml:"proof" json:"proof,omitzero"`
	Exclusions   Fact[[]string] `yaml:"exclusions" json:"exclusions,omitzero"`
	Contact      Fact[string]   `yaml:"contact" json:"contact,omitzero"`
}

// Catalog is the whole catalog: models, sequences, sources and warranty terms.
type Catalog struct {
	Models    []*Model
	Sequences map[string]*Sequence
	Sources   map[string]*Source
	Warranty  Warranty

	byName map[string]*Model // id and aliases, normalised
}

var loadDefault = sync.OnceValues(func() (*Catalog, error) {
	read := func(name string) []byte {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			panic(err) // embedded at build time; cannot be missing
		}
		return b
	}
	return Parse(read("models.yaml"), read("sequences.yaml"), read("sources.yaml"))
})

// Default returns the embedded Kwikset catalog. The data is checked by the package's
// tests, so a failure here is a build defect and panics.
func Default() *Catalog {
	c, err := loadDefault()
	if err != nil {
		panic("catalog: embedded data is invalid: " + err.Error())
	}
	return c
}

// Parse builds a catalog from the three YAML documents and checks its integrity: unique
// ids and aliases, known source tags, known sequences, well-formed radio ids.
func Parse(models, sequences, sources []byte) (*Catalog, error) {
	var doc struct {
		Warranty Warranty `yaml:"warranty"`
		Models   []*Model `yaml:"models"`
	}
	if err := yaml.Unmarshal(models, &doc); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	c := &Catalog{Models: doc.Models, Warranty: doc.Warranty, byName: map[string]*Model{}}
	if err := yaml.Unmarshal(sequences, &c.Sequences); err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	if err := yaml.Unmarshal(sources, &c.Sources); err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	for tag, s := range c.Sources {
		s.Tag = tag
	}
	for id, s := range c.Sequences {
		s.ID = id
		best := c.bestClass(s.Sources)
		switch {
		case s.Confidence == "":
			s.Confidence = best
		case s.Confidence.rank() > best.rank():
			return nil, fmt.Errorf("sequence %s: confidence %q is above its best source's class %q", id, s.Confidence, best)
		}
	}
	if err := c.index(); err != nil {
		return nil, err
	}
	return c, nil
}

var hexID = regexp.MustCompile(`^0x[0-9a-f]{4}$`)

// index fills byName and derives each fact's confidence from its sources, checking the
// data on the way.
func (c *Catalog) index() error {
	for _, m := range c.Models {
		if m.ID == "" || m.Name == "" {
			return fmt.Errorf("model %q: id and name are required", m.ID)
		}
		if m.Kind != Mechanical && m.Kind != Electronic {
			return fmt.Errorf("model %s: kind %q is neither mechanical nor electronic", m.ID, m.Kind)
		}
		for _, name := range append([]string{m.ID}, m.Aliases...) {
			key := normalize(name)
			if other, dup := c.byName[key]; dup && other != m {
				return fmt.Errorf("model %s: name %q is already used by model %s", m.ID, name, other.ID)
			}
			c.byName[key] = m
		}
		for field, f := range m.facts() {
			for _, tag := range f.sources() {
				if c.Sources[tag] == nil {
					return fmt.Errorf("model %s, %s: unknown source tag %q", m.ID, field, tag)
				}
			}
			if err := f.setConfidence(c.bestClass(f.sources())); err != nil {
				return fmt.Errorf("model %s, %s: %w", m.ID, field, err)
			}
		}
		for _, f := range []Fact[string]{m.Reset, m.Rekey} {
			if id, _ := f.Get(""); id != "" && c.Sequences[id] == nil {
				return fmt.Errorf("model %s: unknown sequence %q", m.ID, id)
			}
		}
		for _, z := range m.ZWave.Value {
			if !hexID.MatchString(z.Type) || !hexID.MatchString(z.ID) {
				return fmt.Errorf("model %s: Z-Wave id %s/%s is not two 0xhhhh values", m.ID, z.Type, z.ID)
			}
		}
		for _, id := range m.Matter.Value {
			if !hexID.MatchString(id.VID) || !hexID.MatchString(id.PID) {
				return fmt.Errorf("model %s: Matter id %s/%s is not two 0xhhhh values", m.ID, id.VID, id.PID)
			}
		}
	}
	for id, s := range c.Sequences {
		for _, tag := range s.Sources {
			if c.Sources[tag] == nil {
				return fmt.Errorf("sequence %s: unknown source tag %q", id, tag)
			}
		}
		if len(s.Steps) == 0 {
			return fmt.Errorf("sequence %s has no steps", id)
		}
	}
	return nil
}

// bestClass is the confidence of a fact resting on tags: that of its best source.
func (c *Catalog) bestClass(tags []string) Confidence {
	best := Unconfirmed
	for _, t := range tags {
		if s := c.Sources[t]; s != nil && s.Class.rank() > best.rank() {
			best = s.Class
		}
	}
	return best
}

// factMeta is what index needs of a Fact of any type.
type factMeta interface {
	sources() []string
	setConfidence(Confidence) error
}

func (f *Fact[T]) sources() []string { return f.Sources }

// setConfidence fills in a known fact's confidence from its sources' best class. The
// data may set a lower one (for example "secondary, quoting Kwikset"), never a higher
// one: the facts page takes confidence from the sources' classes.
func (f *Fact[T]) setConfidence(c Confidence) error {
	if !f.Known {
		return nil
	}
	if f.Confidence == "" {
		f.Confidence = c
		return nil
	}
	if f.Confidence.rank() > c.rank() {
		return fmt.Errorf("confidence %q is above its best source's class %q", f.Confidence, c)
	}
	return nil
}

// facts lists the model's facts by field name, for checks that apply to all of them.
func (m *Model) facts() map[string]factMeta {
	return map[string]factMeta{
		"form": &m.Form, "keypad": &m.Keypad, "radios": &m.Radios,
		"smartkey_hole": &m.SmartKeyHole, "keyway": &m.Keyway, "pins": &m.Pins,
		"depth7": &m.Depth7, "master_keyable": &m.MasterKeyable,
		"rekey_requires_working_key": &m.RekeyRequiresWorkingKey, "rekey": &m.Rekey,
		"keyway_free": &m.KeywayFree, "max_user_codes": &m.MaxUserCodes,
		"code_min": &m.CodeMin, "code_max": &m.CodeMax, "unique_prefix": &m.UniquePrefix,
		"forbidden_prefixes": &m.ForbiddenPrefixes, "one_time_codes": &m.OneTimeCodes,
		"fingerprints": &m.Fingerprints, "programming": &m.Programming,
		"programming_timeout_s": &m.ProgrammingTimeoutS, "lockout": &m.Lockout,
		"reset": &m.Reset, "remote_reset": &m.RemoteReset,
		"device_reset_locally": &m.DeviceResetLocally, "door_handing": &m.DoorHanding,
		"batteries": &m.Batteries, "auto_lock_s": &m.AutoLockS, "zwave_params": &m.ZWaveParams, "zwave": &m.ZWave,
		"zigbee": &m.Zigbee, "matter": &m.Matter,
	}
}

// normalize folds a model name as people type it: case, spaces, "kwikset" prefix.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "kwikset")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '-' || r == '_'
	}), "")
}

// Model returns the model with the given id or alias ("916", "SmartCode 916", "hc620").
// It returns a not_found error that lists how to find the right one.
func (c *Catalog) Model(name string) (*Model, error) {
	if m := c.byName[normalize(name)]; m != nil {
		return m, nil
	}
	return nil, latchkey.Errorf(latchkey.ENOTFOUND,
		"No Kwikset model %q in the catalog. List the models with 'latchkey models ls', or answer a few questions with 'latchkey models identify'.", name)
}

// KwiksetZWaveManufacturer is Kwikset's Z-Wave manufacturer id (facts §3.11), as the
// domain knows it.
const KwiksetZWaveManufacturer = latchkey.KwiksetZWaveManufacturer

// ByZWave returns the models matching a Z-Wave manufacturer id, product type and product
// id, as a hub reports them (zwave-js sends them as numbers).
func (c *Catalog) ByZWave(manufacturer, productType, productID uint16) []*Model {
	if manufacturer != KwiksetZWaveManufacturer {
		return nil
	}
	pt, pid := hex16(productType), hex16(productID)
	var out []*Model
	for _, m := range c.Models {
		if slices.Contains(m.ZWave.Value, ZWaveID{Type: pt, ID: pid}) {
			out = append(out, m)
		}
	}
	return out
}

// ByZigbee returns the models whose Zigbee model identifier matches exactly, with the
// matching id (which says whether PIN codes work over Zigbee).
func (c *Catalog) ByZigbee(zigbeeModel string) (*Model, ZigbeeID, bool) {
	for _, m := range c.Models {
		for _, z := range m.Zigbee.Value {
			if z.Model == zigbeeModel {
				return m, z, true
			}
		}
	}
	return nil, ZigbeeID{}, false
}

// ByMatter returns the models matching a Matter vendor id and product id.
func (c *Catalog) ByMatter(vendorID, productID uint16) []*Model {
	want := MatterID{VID: hex16(vendorID), PID: hex16(productID)}
	var out []*Model
	for _, m := range c.Models {
		if slices.Contains(m.Matter.Value, want) {
			out = append(out, m)
		}
	}
	return out
}

// hex16 formats an id the way the catalog data writes it: "0x0090".
func hex16(v uint16) string { return fmt.Sprintf("0x%04x", v) }

// SequenceIDs returns the sequence ids in a stable order.
func (c *Catalog) SequenceIDs() []string {
	ids := make([]string, 0, len(c.Sequences))
	for id := range c.Sequences {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// SequenceIDs returns the ids of the sequences that apply to the model: its rekey or
// factory reset (as confirmed, or as assumed) and its keypad programming.
func (m *Model) SequenceIDs() []string {
	var ids []string
	for _, f := range []Fact[string]{m.Rekey, m.Reset} {
		if id, _ := f.Get(""); id != "" {
			ids = append(ids, id)
		}
	}
	if style, _ := m.Programming.Get(""); style != "" {
		ids = append(ids, programmingSequences[style]...)
	}
	if m.HasRadio(RadioZWave) {
		ids = append(ids, "zwave-include", "zwave-exclude")
	}
	if m.HasRadio(RadioZigbee) {
		ids = append(ids, "zigbee-pair")
	}
	return ids
}

// programmingSequences are the keypad sequences of each programming style (facts §3.4).
var programmingSequences = map[string][]string{
	ProgramPosition:   {"position-add", "position-delete"},
	ProgramMastercode: {"mastercode-add", "mastercode-delete", "mastercode-delete-all", "mastercode-enable"},
	ProgramMenu:       {"menu-add", "menu-add-onetime", "menu-delete"},
	ProgramApp:        {"app"},
}

// SourceTags returns the source tags the model's facts cite, sorted and unique.
func (m *Model) SourceTags() []string {
	seen := map[string]bool{}
	for _, f := range m.facts() {
		for _, t := range f.sources() {
			seen[t] = true
		}
	}
	tags := make([]string, 0, len(seen))
	for t := range seen {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags
}

// CheckModel returns nil when id names a catalog model (it satisfies latchkey.Models).
func (c *Catalog) CheckModel(id string) error {
	_, err := c.Model(id)
	return err
}
