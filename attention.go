package latchkey

import (
	"context"
	"fmt"
	"strings"
)

// Attention is what a lock needs, if anything: the most urgent thing first. It is the one
// rule the dashboard, 'latchkey lock ls' and the API share, so that nothing shows "ok"
// beside a problem.
type Attention struct {
	Level string `json:"level"`         // "ok", "warn" or "bad"
	Label string `json:"label"`         // a few words for a badge: "exposed: rekey"
	Why   string `json:"why,omitempty"` // what to do, in a sentence
}

// Attention levels.
const (
	AttentionOK   = "ok"
	AttentionWarn = "warn"
	AttentionBad  = "bad"
)

// LockFacts is what Attention needs beyond the lock's own record: its code changes still
// to be made at the lock and confirmed, whether it has a verified way in (invariant 1),
// and whether its model takes codes at all. Callers that do not know them pass the zero
// value and learn what the record alone says.
type LockFacts struct {
	Known   bool // Pending, NoWayIn and NoKeypad were looked up
	Pending int  // code changes to make at the lock now, each then confirmed
	// Connected says the lock is reached through a hub: the sync engine makes its changes.
	Connected bool
	// RevokedUsed says a revoked code opened the door and is not yet seen gone.
	RevokedUsed bool
	NoWayIn     bool
	NoKeypad    bool // its model takes no codes: a key is its only way in
}

// Needs says what the lock needs, from its status, its device state and facts. When the
// most urgent need is a problem and the battery is low too, the reason says so as well:
// the battery must not vanish behind the problem.
func (l *Lock) Needs(f LockFacts) Attention {
	a := l.needs(f)
	if a.Level == AttentionBad && l.State.LowBattery() {
		a.Why = strings.TrimSuffix(a.Why, ".") + "; its battery is also low: replace the batteries (4×AA alkaline) before any programming."
	}
	return a
}

// needs is the most urgent thing the lock needs.
func (l *Lock) needs(f LockFacts) Attention {
	if f.Known && f.RevokedUsed {
		return Attention{AttentionBad, "revoked code used", "A revoked code opened this door: it is being removed again. Check who came in (the events), and until the lock is seen without the code, treat the door as open to it."}
	}
	switch l.Status {
	case LockExposed:
		return Attention{AttentionBad, "exposed: rekey", "A lost key still opens it: rekey it to a new key, then record the rekey on the lock's page (Record a rekey or a new cylinder) or with latchkey lock rekey."}
	case LockQuarantined:
		return Attention{AttentionBad, "reset: re-provision", "It was reset behind Latchkey's back and may hold none of its codes: put them back before relying on it."}
	case LockNeedsLocksmith:
		return Attention{AttentionBad, "needs a locksmith", "Do not force it: call a locksmith."}
	case LockNeedsSupport:
		return Attention{AttentionBad, "needs support", "Its electronics misbehave: call Kwikset support."}
	}
	switch {
	case l.State.Bolt == "jammed":
		return Attention{AttentionBad, "bolt jammed", "The bolt jammed: check the door's alignment and the strike, then lock it again."}
	case l.State.LowBattery():
		return Attention{AttentionWarn, "battery low", "Battery low: replace the batteries (4×AA alkaline) before any programming."}
	case l.Status == LockUnidentified:
		return Attention{AttentionWarn, "model unknown", "Identify its model (latchkey models identify): code rules and procedures differ by model."}
	case l.Survey.Pending():
		return Attention{AttentionWarn, "slots not all read", fmt.Sprintf("Its slots have not all been read since it was adopted from its hub (%d so far), and no code goes on it until they are: read the rest on its page (Read the remaining slots) or with latchkey hub survey %d.", l.Survey.Read, l.ID)}
	case f.Known && f.Pending > 0 && f.Connected:
		what := "1 code change is"
		if f.Pending > 1 {
			what = fmt.Sprintf("%d code changes are", f.Pending)
		}
		return Attention{AttentionWarn, "changes pending", fmt.Sprintf("%s on the way to the lock: the sync engine writes each through its hub and reads it back (latchkey code show CODE says where each stands, and why one waits).", what)}
	case f.Known && f.Pending > 0:
		// Nothing confirms a change by itself: someone makes it at the keypad, then says so.
		what := "1 code change to make at the lock: program or remove it at the keypad"
		if f.Pending > 1 {
			what = fmt.Sprintf("%d code changes to make at the lock: program or remove each at the keypad", f.Pending)
		}
		return Attention{AttentionWarn, "changes pending", fmt.Sprintf("%s, then confirm it on the lock's page (latchkey code confirm CODE --lock %d).", what, l.ID)}
	case f.Known && f.NoWayIn && f.NoKeypad:
		return Attention{AttentionWarn, "no way in", fmt.Sprintf("No way in recorded: it takes no codes, so record its key (latchkey lock set %d --key KEY) and who holds a copy.", l.ID)}
	case f.Known && f.NoWayIn:
		return Attention{AttentionWarn, "no way in", "No way in recorded: add a code or record its key."}
	}
	return Attention{AttentionOK, "ok", ""}
}

// deriveAttention sets each lock's Attention from its record, its code changes waiting
// for it, its ways in and whether its model takes codes. For a list it reads every grant,
// code and key once, so that a thousand locks cost a few queries, not thousands.
func (s *Service) deriveAttention(ctx context.Context, tx Tx, locks []*Lock) error {
	if len(locks) == 0 {
		return nil
	}
	var f GrantFilter
	if len(locks) == 1 {
		f.LockID = &locks[0].ID
	}
	grants, err := tx.FindGrants(ctx, f)
	if err != nil {
		return err
	}
	byLock := map[int64][]*Grant{}
	for _, g := range grants {
		byLock[g.LockID] = append(byLock[g.LockID], g)
	}
	codes, keys := map[int64]*Code{}, map[int64]*Key{}
	if len(locks) > 1 {
		allCodes, err := all(func(p Page) ([]*Code, int, error) { return tx.FindCodes(ctx, CodeFilter{}, p) })
		if err != nil {
			return err
		}
		for _, c := range allCodes {
			codes[c.ID] = c
		}
		allKeys, err := all(func(p Page) ([]*Key, int, error) { return tx.FindKeys(ctx, KeyFilter{}, p) })
		if err != nil {
			return err
		}
		for _, k := range allKeys {
			keys[k.ID] = k
		}
	}
	code := func(id int64) (*Code, error) {
		if c := codes[id]; c != nil {
			return c, nil
		}
		return tx.FindCodeByID(ctx, id)
	}
	key := func(id int64) (*Key, error) {
		if k := keys[id]; k != nil {
			return k, nil
		}
		return tx.FindKeyByID(ctx, id)
	}
	sites := map[int64]*Site{} // by door
	now := s.now()
	for _, l := range locks {
		facts := LockFacts{Known: true, NoKeypad: !s.takesCodes(l), Connected: l.Connection.Driver != ""}
		for _, g := range byLock[l.ID] {
			switch g.Status {
			case GrantRemoving, GrantFailed, GrantSetting, GrantUnconfirmed:
				facts.Pending++
				facts.RevokedUsed = facts.RevokedUsed || g.Alert != ""
			case GrantPending:
				// A code whose time has not come is not a change to make yet.
				c, err := code(g.CodeID)
				if err != nil {
					return err
				}
				site, ok := sites[l.DoorID]
				if !ok {
					if site, err = lockSite(ctx, tx, l); err != nil {
						return err
					}
					sites[l.DoorID] = site
				}
				if wantedOn(c, now, site) {
					facts.Pending++
				}
			}
		}
		ways, err := waysInFrom(l, byLock[l.ID], code, key)
		if err != nil {
			return err
		}
		facts.NoWayIn = len(ways) == 0
		l.Attention = l.Needs(facts)
	}
	return nil
}
