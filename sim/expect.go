package sim

import (
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// expectHub checks one of a hub's fields: "expect hub RADIO FIELD VALUE".
func (c *Console) expectHub(args []string) error {
	if len(args) < 3 {
		return usage("expect hub RADIO FIELD VALUE")
	}
	h, err := c.hubArg(args)
	if err != nil {
		return err
	}
	got, ok := h.Field(args[1])
	if !ok {
		return latchkey.Errorf(latchkey.EINVALID, "A hub has no field %q; it has: %s.", args[1], strings.Join(h.Fields(), ", "))
	}
	want := strings.Join(args[2:], " ")
	if got != want {
		return latchkey.Errorf(latchkey.ECONFLICT, "Expected the %s hub's %s to be %q, but it is %q.", h.radio, args[1], want, got)
	}
	c.W.log(h.radio+"-hub", KindExpect, "%s is %s", args[1], want)
	return nil
}

// tracePattern is one "WHO TEXT" of a trace assertion.
type tracePattern struct {
	who  string // a twin's name, RADIO-hub, or * for anyone
	text string
}

func (p tracePattern) String() string { return p.who + " " + p.text }

func (p tracePattern) matches(e Entry) bool {
	return e.Kind != KindExpect && (p.who == "*" || e.Twin == p.who) && strings.Contains(e.Detail, p.text)
}

// expectTrace checks what happened since the last mark (or the start): "seen" wants an
// entry of WHO containing TEXT, "unseen" wants none, and "order" wants entries matching
// each "WHO TEXT" between the words "then", in that order.
func (c *Console) expectTrace(kind string, args []string) error {
	if c.W.trace == nil {
		return latchkey.Errorf(latchkey.EINVALID, "This world keeps no trace to check.")
	}
	var pats []tracePattern
	parts := [][]string{args}
	if kind == "order" {
		parts = nil
		for part := range splitOn(args, "then") {
			parts = append(parts, part)
		}
	}
	for _, part := range parts {
		if len(part) < 2 {
			if kind == "order" {
				return usage("expect order WHO TEXT then WHO TEXT [then ...]")
			}
			return usage("expect " + kind + " WHO TEXT")
		}
		if err := c.checkWho(part[0]); err != nil {
			return err
		}
		pats = append(pats, tracePattern{who: part[0], text: strings.Join(part[1:], " ")})
	}
	if kind == "order" && len(pats) < 2 {
		return usage("expect order WHO TEXT then WHO TEXT [then ...]")
	}
	entries := c.W.Trace()[min(c.mark, len(c.W.Trace())):]
	since := "since the start"
	if c.marked {
		since = "since the mark"
	}
	switch kind {
	case "seen":
		if !slices.ContainsFunc(entries, pats[0].matches) {
			return latchkey.Errorf(latchkey.ECONFLICT, "Expected an entry of %s containing %q %s, but there is none.", pats[0].who, pats[0].text, since)
		}
	case "unseen":
		if i := slices.IndexFunc(entries, pats[0].matches); i >= 0 {
			return latchkey.Errorf(latchkey.ECONFLICT, "Expected no entry of %s containing %q %s, but there is one: %s", pats[0].who, pats[0].text, since, FormatEntry(entries[i]))
		}
	case "order":
		rest := entries
		for i, p := range pats {
			j := slices.IndexFunc(rest, p.matches)
			if j < 0 {
				after := ""
				if i > 0 {
					after = " after " + pats[i-1].String()
				}
				return latchkey.Errorf(latchkey.ECONFLICT, "Expected %q%s %s, but it is not there in that order.", p.String(), after, since)
			}
			rest = rest[j+1:]
		}
	}
	texts := make([]string, len(pats))
	for i, p := range pats {
		texts[i] = p.String()
	}
	c.W.log("", KindExpect, "%s: %s", kind, strings.Join(texts, " then "))
	return nil
}

// checkWho accepts a twin's name, a hub (RADIO-hub) or * for anyone, so that a mistyped
// name cannot make "unseen" hold by matching nothing.
func (c *Console) checkWho(who string) error {
	if who == "*" {
		return nil
	}
	if radio, ok := strings.CutSuffix(who, "-hub"); ok && slices.Contains(Radios, radio) {
		return nil
	}
	if _, err := c.W.Twin(who); err != nil {
		return latchkey.Errorf(latchkey.EINVALID, "%s is neither a twin, a hub (zwave-hub, zigbee-hub, wifi-hub, ble-hub, matter-hub) nor *.", who)
	}
	return nil
}

// splitOn yields the runs of args between the separator words.
func splitOn(args []string, sep string) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		start := 0
		for i, a := range args {
			if a == sep {
				if !yield(args[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(args[start:])
	}
}
