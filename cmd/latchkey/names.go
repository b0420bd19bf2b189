package main

import (
	"context"
	"strconv"

	"github.com/latchkey/latchkey"
)

// names puts names next to the ids a command prints ("Sam Chen (person 2)"), looking
// each up once (when it has a service to ask). A name it cannot find leaves the id alone.
type names struct {
	ctx    context.Context
	s      latchkey.RecordService
	people map[int64]string
	doors  map[int64]string
}

func newNames(ctx context.Context, s latchkey.RecordService) *names {
	return &names{ctx: ctx, s: s, people: map[int64]string{}, doors: map[int64]string{}}
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

func labelled(name, what string, id int64) string {
	ref := what + " " + strconv.FormatInt(id, 10)
	if name == "" {
		return ref
	}
	return name + " (" + ref + ")"
}
