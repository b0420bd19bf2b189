package catalog

import (
	"fmt"
	"time"
)

// WarrantyStatus is what Latchkey can say about a lock's warranty from the catalog's
// terms and its purchase date. Where the terms are unconfirmed, the state is unknown and
// the reason says so; nothing is guessed (facts §5).
type WarrantyStatus struct {
	State      string   `json:"state"` // in_warranty, expired, unknown
	Reason     string   `json:"reason"`
	Proof      string   `json:"proof,omitempty"`
	Exclusions []string `json:"exclusions,omitempty"`
	Contact    string   `json:"contact,omitempty"`
	Sources    []string `json:"sources"`
}

// Warranty states.
const (
	WarrantyUnknown = "unknown"
)

// WarrantyStatus returns the warranty status of a lock of model m bought on purchased
// (nil when not recorded), as of now.
func (c *Catalog) WarrantyStatus(m *Model, purchased *time.Time, now time.Time) WarrantyStatus {
	w := c.Warranty
	st := WarrantyStatus{State: WarrantyUnknown, Sources: append([]string{}, w.Periods.Sources...)}
	if p, ok := w.Proof.Get(""); ok {
		st.Proof = p
		st.Sources = append(st.Sources, w.Proof.Sources...)
	}
	if ex, ok := w.Exclusions.Get(nil); ok {
		st.Exclusions = ex
		st.Sources = append(st.Sources, w.Exclusions.Sources...)
	}
	if ct, ok := w.Contact.Get(""); ok {
		st.Contact = ct
	}
	switch {
	case !w.Periods.Known:
		st.Reason = "Kwikset's warranty periods are unconfirmed: " + w.Periods.Note
	default:
		st.Reason = "Known warranty periods are not yet modelled."
	}
	if purchased == nil {
		st.Reason += " Record the purchase date and keep the dated receipt: a claim needs it."
	} else {
		st.Reason += fmt.Sprintf(" Bought %s (%s ago); keep the dated receipt.", purchased.Format(time.DateOnly), age(now.Sub(*purchased)))
	}
	return st
}

func age(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case days < 60:
		return fmt.Sprintf("%d days", days)
	case days < 730:
		return fmt.Sprintf("%d months", days/30)
	}
	return fmt.Sprintf("%d years", days/365)
}
