package sqlstore

import "github.com/latchkey/latchkey"

// auditHead remembers the newest audit entry of a batch: a transaction that holds the
// audit lock throughout, so that no other writer appends meanwhile. It follows the
// entries the batch appends as long as each follows the one before; an entry that does
// not (against AppendAudit's contract) makes it read the newest entry again.
//
// A change rolled back to its savepoint takes back what it changed here. A change rolled
// back late, after later changes sealed their entries on top of its own (see Deferrer),
// has those entries sealed again in its place: they are not sent yet.
type auditHead struct {
	known bool
	last  *latchkey.AuditEntry // a copy; nil for an empty log
	// as they were when the current change began
	knownBefore bool
	lastBefore  *latchkey.AuditEntry
	change      int       // the current change's number
	held        []pending // entries appended by deferred statements, in order
}

// pending is an entry appended by a deferred statement: args are the statement's own, so
// that sealing the entry again changes what will be sent.
type pending struct {
	change   int
	entry    *latchkey.AuditEntry
	args     []any
	followed bool // it followed the newest entry known when it was appended
}

// The positions in AppendAudit's arguments of what sealing sets.
const (
	argSeq      = 0
	argPrevHash = 7
	argHash     = 8
)

// get returns a copy of the newest entry, and whether it is known.
func (h *auditHead) get() (*latchkey.AuditEntry, bool) {
	if h == nil || !h.known {
		return nil, false
	}
	if h.last == nil {
		return nil, true
	}
	e := *h.last
	return &e, true
}

// set records e (nil: the log is empty) as the newest entry.
func (h *auditHead) set(e *latchkey.AuditEntry) {
	h.known, h.last = true, nil
	if e != nil {
		c := *e
		h.last = &c
	}
}

// appended records an entry the current change appended, by a deferred statement with
// args or at once.
func (h *auditHead) appended(e *latchkey.AuditEntry, args []any, deferred bool) {
	followed := h.known && follows(h.last, e)
	if followed {
		h.set(e)
	} else {
		h.known, h.last = false, nil
	}
	if deferred {
		h.held = append(h.held, pending{change: h.change, entry: e, args: args, followed: followed})
	}
}

// follows reports whether e comes right after last (nil: the log was empty).
func follows(last, e *latchkey.AuditEntry) bool {
	if last == nil {
		return e.Seq == 1 && e.PrevHash == ""
	}
	return e.Seq == last.Seq+1 && e.PrevHash == last.Hash
}

func (h *auditHead) begin() int {
	h.knownBefore, h.lastBefore = h.known, h.last
	h.change++
	return h.change
}

func (h *auditHead) end(kept bool) {
	if !kept {
		h.known, h.last = h.knownBefore, h.lastBefore
		h.drop(h.change)
	}
}

// drop forgets the held entries of change n.
func (h *auditHead) drop(n int) {
	kept := h.held[:0]
	for _, p := range h.held {
		if p.change != n {
			kept = append(kept, p)
		}
	}
	h.held = kept
}

// lateFailure takes back change n's entries, and seals the entries that later changes
// sealed on top of them again, after the entry before change n's first.
func (h *auditHead) lateFailure(n int) {
	// The current change, should it roll back, reads the newest entry again.
	h.knownBefore, h.lastBefore = false, nil
	var first *pending
	for i := range h.held {
		if h.held[i].change == n {
			first = &h.held[i]
			break
		}
	}
	if first == nil {
		return // change n appended nothing: the entries after it stand
	}
	prev := &latchkey.AuditEntry{Seq: first.entry.Seq - 1, Hash: first.entry.PrevHash}
	chained := first.followed
	h.drop(n)
	h.known, h.last = false, nil
	if !chained {
		return // no later entry was sealed on change n's
	}
	for _, p := range h.held {
		if p.change > n && p.followed {
			p.entry.Seal(prev)
			p.args[argSeq], p.args[argPrevHash], p.args[argHash] = p.entry.Seq, p.entry.PrevHash, p.entry.Hash
			prev = p.entry
			h.set(p.entry)
		}
	}
}
