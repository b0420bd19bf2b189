package main

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/report"
)

// rules gives the service what it needs of the catalog and the key rules; wiring them
// together here keeps the catalog and keying packages independent of each other.
type rules struct {
	*catalog.Catalog
	Random io.Reader // for new bittings; nil means crypto/rand
}

var _ latchkey.Models = rules{}

// CheckCode checks a PIN under the model's code rules beside the lock's other codes.
func (r rules) CheckCode(modelID, pin string, existing []string) error {
	m, err := r.Model(modelID)
	if err != nil {
		return err
	}
	return m.Rules().Check(pin, existing).Err()
}

// GenerateCode returns a PIN the model accepts beside the existing codes.
func (r rules) GenerateCode(modelID string, existing []string) (string, error) {
	m, err := r.Model(modelID)
	if err != nil {
		return "", err
	}
	return m.Rules().GenerateCode(0, existing, nil)
}

// smallestCapacity is used where a model's capacity is neither known nor assumed: the
// smallest any Kwikset keypad is said to hold (facts §3.2, the 909's lower report).
const smallestCapacity = 4

// CodeCapacity is how many user codes the model holds.
func (r rules) CodeCapacity(modelID string) int {
	m, err := r.Model(modelID)
	if err != nil {
		return 0
	}
	if c := m.Rules().Capacity; c >= 0 {
		return c
	}
	return smallestCapacity
}

// CheckBitting validates a bitting for its keyway and returns it normalised.
func (r rules) CheckBitting(keyway, bitting string) (string, error) {
	if keyway != keying.KW1.Keyway {
		return "", latchkey.Errorf(latchkey.EINVALID, "Latchkey knows the KW1 keyway only; %q is not one it can check.", keyway)
	}
	b, err := keying.KW1.Parse(bitting)
	return string(b), err
}

// GenerateBittings returns new bittings for the cylinder of a catalog model ("" for
// SmartKey), clear of the avoided ones. A bitting to avoid that the cylinder would not
// take is refused without being repeated.
func (r rules) GenerateBittings(modelID string, n int, apart bool, avoid []string) ([]string, error) {
	if modelID == "" {
		modelID = "smartkey"
	}
	spec, err := cylinderSpec(r.Catalog, modelID)
	if err != nil {
		return nil, err
	}
	opt := keying.GenerateOptions{Apart: apart, Random: r.Random}
	for _, a := range avoid {
		b, err := spec.Parse(a)
		if err != nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "A bitting to avoid is not one the %s takes: %s", modelID, latchkey.ErrorMessage(err))
		}
		opt.Avoid = append(opt.Avoid, b)
	}
	bs, err := spec.Generate(n, opt)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out, nil
}

var _ latchkey.DeviceModels = rules{}

// IdentifyDevice names the catalog models a hub's device ids match: by its Z-Wave
// manufacturer, product type and product id, or by its Zigbee model identifier.
func (r rules) IdentifyDevice(d latchkey.DeviceInfo) []string {
	var ids []string
	switch {
	case d.IsZWave():
		for _, m := range r.ByZWave(d.ZWaveManufacturer, d.ZWaveProductType, d.ZWaveProductID) {
			ids = append(ids, m.ID)
		}
	case d.IsZigbee():
		if m, _, ok := r.ByZigbee(d.ZigbeeModel); ok {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// Rules returns the rules the program wires into the service (tests use it too).
func Rules() latchkey.Models { return rules{Catalog: catalog.Default()} }

// uiCatalog gives the web UI what it shows of the catalog, the key rules and the record
// sheet.
type uiCatalog struct {
	m *Main
}

var _ lkhttp.Catalog = uiCatalog{}

// ModelName names a catalog model.
func (u uiCatalog) ModelName(id string) string {
	if md, err := u.m.Catalog.Model(id); err == nil {
		return md.Name
	}
	return ""
}

// Models lists the electronic and mechanical models to choose from.
func (u uiCatalog) Models() []lkhttp.ModelChoice {
	var out []lkhttp.ModelChoice
	for _, md := range u.m.Catalog.Models {
		out = append(out, lkhttp.ModelChoice{ID: md.ID, Name: md.Name})
	}
	return out
}

// TakesCodes reports whether a model has a keypad that takes user codes.
func (u uiCatalog) TakesCodes(modelID string) bool {
	return rules{Catalog: u.m.Catalog}.CodeCapacity(modelID) > 0
}

// KeySVG draws a key to scale.
func (u uiCatalog) KeySVG(bitting string) string {
	var buf bytes.Buffer
	if err := keying.KW1.Draw(&buf, keying.Bitting(bitting)); err != nil {
		return ""
	}
	return strings.TrimPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
}

// IdentifyQuestions are the catalog's identify questions.
func (u uiCatalog) IdentifyQuestions() []lkhttp.Question {
	var out []lkhttp.Question
	for _, q := range catalog.Questions() {
		lq := lkhttp.Question{Name: q.Name, Text: q.Text}
		for _, a := range q.Choices {
			lq.Choices = append(lq.Choices, latchkey.Choice{Value: a.Value, Label: a.Label})
		}
		out = append(out, lq)
	}
	return out
}

// KeyBlankSVG draws an uncut KW1 key.
func (u uiCatalog) KeyBlankSVG() string {
	var buf bytes.Buffer
	if err := keying.KW1.DrawBlank(&buf); err != nil {
		return ""
	}
	return strings.TrimPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
}

// Warranty describes a lock's warranty in a sentence.
func (u uiCatalog) Warranty(modelID string, purchased *time.Time) string {
	md, err := u.m.Catalog.Model(modelID)
	if err != nil {
		return "unknown: the lock's model is not identified."
	}
	w := u.m.Catalog.WarrantyStatus(md, purchased, time.Now())
	return w.State + ": " + w.Reason
}

// Sheet writes a lock's printable record sheet.
func (u uiCatalog) Sheet(w io.Writer, rec *latchkey.LockRecord) error {
	return report.WriteSheet(w, u.m.sheet(rec))
}
