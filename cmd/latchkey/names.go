package main

import (
	"context"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// names puts names next to the ids a command prints ("Sam Chen (person 2)"), looking
// each up once (when it has a service to ask). A name it cannot find leaves the id alone.
type names struct {
	ctx    context.Context
	s      latchkey.RecordService
	people map[int64]string
	doors  map[int64]string
	sites  map[int64]string
	locks  map[int64]*latchkey.Lock
	zones  map[int64]*time.Location // by site; nil: not known
}

func newNames(ctx context.Context, s latchkey.RecordService) *names {
	return &names{ctx: ctx, s: s, people: map[int64]string{}, doors: map[int64]string{}, sites: map[int64]string{},
		locks: map[int64]*latchkey.Lock{}, zones: map[int64]*time.Location{}}
}

// findLock looks a lock up once; nil when it cannot be found.
func (n *names) findLock(id int64) *latchkey.Lock {
	l, ok := n.locks[id]
	if !ok && n.s != nil {
		l, _ = n.s.FindLockByID(n.ctx, id)
		n.locks[id] = l
	}
	return l
}

// lock names a lock.
func (n *names) lock(id int64) string {
	name := ""
	if l := n.findLock(id); l != nil {
		name = l.Name
	}
	return labelled(name, "lock", id)
}

// lockZone is the time zone of the site a lock is at; nil when it is not known.
func (n *names) lockZone(lockID int64) *time.Location {
	l := n.findLock(lockID)
	if l == nil || n.s == nil {
		return nil
	}
	d, err := n.s.FindDoorByID(n.ctx, l.DoorID)
	if err != nil {
		return nil
	}
	return n.siteZone(d.SiteID)
}

// siteZone is a site's time zone; nil when it is not known.
func (n *names) siteZone(siteID int64) *time.Location {
	loc, ok := n.zones[siteID]
	if !ok && n.s != nil {
		if site, err := n.s.FindSiteByID(n.ctx, siteID); err == nil {
			loc, _ = time.LoadLocation(site.TimeZone)
		}
		n.zones[siteID] = loc
	}
	return loc
}

// codeZone is the time zone of the site where a code is granted (its first lock's),
// in which its window's dates are shown; nil when it is not known.
func (n *names) codeZone(codeID int64) *time.Location {
	if n.s == nil {
		return nil
	}
	grants, err := n.s.FindGrants(n.ctx, latchkey.GrantFilter{CodeID: &codeID})
	if err != nil || len(grants) == 0 {
		return nil
	}
	return n.lockZone(grants[0].LockID)
}

// onlyZone is the time zone of every site when they all share one (a single house),
// so that a list of codes needs no look-up per code; nil otherwise.
func (n *names) onlyZone() *time.Location {
	if n.s == nil {
		return nil
	}
	sites, total, err := n.s.FindSites(n.ctx, latchkey.Page{Limit: 100})
	if err != nil || len(sites) == 0 || total > len(sites) {
		return nil
	}
	for _, site := range sites[1:] {
		if site.TimeZone != sites[0].TimeZone {
			return nil
		}
	}
	loc, _ := time.LoadLocation(sites[0].TimeZone)
	return loc
}

// person names a person.
func (n *names) person(id int64) string {
	if id == 0 {
		return "-"
	}
	name, ok := n.people[id]
	if !ok && n.s != nil {
		if p, err := n.s.FindPersonByID(n.ctx, id); err == nil {
			name = p.Name
		}
		n.people[id] = name
	}
	return labelled(name, "person", id)
}

// door names a door.
func (n *names) door(id int64) string {
	name, ok := n.doors[id]
	if !ok && n.s != nil {
		if d, err := n.s.FindDoorByID(n.ctx, id); err == nil {
			name = d.Name
		}
		n.doors[id] = name
	}
	return labelled(name, "door", id)
}

// site names a site, reading every site's name the first time one is asked for.
func (n *names) site(id int64) string {
	if _, ok := n.sites[id]; !ok && n.s != nil {
		if sites, _, err := n.s.FindSites(n.ctx, latchkey.Page{Limit: 1000}); err == nil {
			for _, st := range sites {
				n.sites[st.ID] = st.Name
			}
		}
		if _, ok := n.sites[id]; !ok {
			if st, err := n.s.FindSiteByID(n.ctx, id); err == nil {
				n.sites[id] = st.Name
			} else {
				n.sites[id] = ""
			}
		}
	}
	return labelled(n.sites[id], "site", id)
}

func labelled(name, what string, id int64) string {
	ref := what + " " + strconv.FormatInt(id, 10)
	if name == "" {
		return ref
	}
	return name + " (" + ref + ")"
}
