package latchkey

import (
	"context"
	"fmt"
	"strings"
)

// Invariant 1, no lockout (SPEC §3): every lock keeps at least one verified way in that
// Latchkey knows of. This file is the one place that counts the ways in and refuses a
// change that would take the last one away.

// waysIn lists the verified ways into a lock: its cylinder's key, when active and held
// by a person, and every reliable code the lock has confirmed.
func waysIn(ctx context.Context, tx Tx, l *Lock) ([]string, error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return nil, err
	}
	return waysInFrom(l, grants, func(id int64) (*Code, error) { return tx.FindCodeByID(ctx, id) },
		func(id int64) (*Key, error) { return tx.FindKeyByID(ctx, id) })
}

// waysInFrom is waysIn over the lock's grants, reading codes and keys through code and key.
func waysInFrom(l *Lock, grants []*Grant, code func(int64) (*Code, error), key func(int64) (*Key, error)) ([]string, error) {
	var ways []string
	if l.KeyID != 0 {
		k, err := key(l.KeyID)
		if err != nil {
			return nil, err
		}
		if k.State == KeyActive && k.HeldByPerson() {
			ways = append(ways, fmt.Sprintf("key %q", k.Label))
		}
	}
	for _, g := range grants {
		if g.Status != GrantSet || g.LockID != l.ID {
			continue
		}
		c, err := code(g.CodeID)
		if err != nil {
			return nil, err
		}
		if c.Reliable() {
			ways = append(ways, fmt.Sprintf("code %q", c.Label))
		}
	}
	return ways, nil
}

// keepWayIn runs change inside tx, then refuses it, as unsafe, if it took the last way
// in from any of the locks (a lock that had none before is not made worse). The caller's
// transaction then rolls the change back.
func keepWayIn(ctx context.Context, tx Tx, lockIDs []int64, what string, change func() error) error {
	type before struct {
		lock *Lock
		ways []string
	}
	var had []before
	for _, id := range lockIDs {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return err
		}
		ways, err := waysIn(ctx, tx, l)
		if err != nil {
			return err
		}
		if len(ways) > 0 {
			had = append(had, before{l, ways})
		}
	}
	if err := change(); err != nil {
		return err
	}
	for _, b := range had {
		// Read the lock again: the change may have altered it (its key, say).
		now, err := tx.FindLockByID(ctx, b.lock.ID)
		if err != nil {
			return err
		}
		ways, err := waysIn(ctx, tx, now)
		if err != nil {
			return err
		}
		if len(ways) == 0 {
			return Errorf(EUNSAFE,
				"%s would leave lock %d (%s) with no way in that Latchkey knows of (its only one: %s). Make before break: first add and confirm another code on it, or record a key held by someone, then try again.",
				capitalize(what), b.lock.ID, b.lock.Name, strings.Join(b.ways, " and "))
		}
	}
	return nil
}

// locksKeyedTo returns the ids of the locks whose cylinder is keyed to a key.
func locksKeyedTo(ctx context.Context, tx Tx, keyID int64) ([]int64, error) {
	locks, _, err := tx.FindLocks(ctx, LockFilter{KeyID: &keyID}, Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(locks))
	for i, l := range locks {
		ids[i] = l.ID
	}
	return ids, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
