package latchkey

import (
	"context"
	"strings"
)

// SiteUpdate changes a site. Nil fields stay as they are.
type SiteUpdate struct {
	Name     *string
	Address  *string
	TimeZone *string
	// CodeLeadMinutes: 1 to MaxCodeLeadMinutes, or 0 for the default.
	CodeLeadMinutes *int
}

// UpdateSite changes a site's name, address or time zone.
func (s *Service) UpdateSite(ctx context.Context, id int64, u SiteUpdate) (site *Site, err error) {
	err = s.change(ctx, "site.update", "site", func(tx Tx) (int64, any, error) {
		if site, err = tx.FindSiteByID(ctx, id); err != nil {
			return 0, nil, err
		}
		setText(u.Name, &site.Name)
		setText(u.Address, &site.Address)
		setText(u.TimeZone, &site.TimeZone)
		if u.CodeLeadMinutes != nil {
			site.CodeLeadMinutes = *u.CodeLeadMinutes
			if site.CodeLeadMinutes == 0 {
				site.CodeLeadMinutes = DefaultCodeLeadMinutes
			}
		}
		if err := site.Validate(); err != nil {
			return 0, nil, err
		}
		return id, map[string]any{"name": site.Name, "time_zone": site.TimeZone, "code_lead_minutes": site.CodeLeadMinutes}, tx.UpdateSite(ctx, site)
	})
	return site, err
}

// UpdateDoor renames a door.
func (s *Service) UpdateDoor(ctx context.Context, id int64, name string) (d *Door, err error) {
	err = s.change(ctx, "door.update", "door", func(tx Tx) (int64, any, error) {
		if d, err = tx.FindDoorByID(ctx, id); err != nil {
			return 0, nil, err
		}
		d.Name = strings.TrimSpace(name)
		if err := d.Validate(); err != nil {
			return 0, nil, err
		}
		return id, map[string]any{"name": d.Name}, tx.UpdateDoor(ctx, d)
	})
	return d, err
}

// PersonUpdate changes a person's record. Nil fields stay as they are.
type PersonUpdate struct {
	Name  *string
	Role  *PersonRole
	Phone *string
	Email *string
}

// UpdatePerson changes a person's name, role, phone or email.
func (s *Service) UpdatePerson(ctx context.Context, id int64, u PersonUpdate) (p *Person, err error) {
	err = s.change(ctx, "person.update", "person", func(tx Tx) (int64, any, error) {
		if p, err = tx.FindPersonByID(ctx, id); err != nil {
			return 0, nil, err
		}
		setText(u.Name, &p.Name)
		setText(u.Phone, &p.Phone)
		setText(u.Email, &p.Email)
		if u.Role != nil {
			p.Role = *u.Role
		}
		if err := p.Validate(); err != nil {
			return 0, nil, err
		}
		return id, map[string]any{"name": p.Name, "role": p.Role}, tx.UpdatePerson(ctx, p)
	})
	return p, err
}

// setText sets *dst to the trimmed *src when src is given.
func setText(src, dst *string) {
	if src != nil {
		*dst = strings.TrimSpace(*src)
	}
}

// PersonRevocation says what revoking everything of a person did: the codes now
// "revocation pending", and those kept because each is a lock's last way in (invariant
// 1), with why.
type PersonRevocation struct {
	Revoked []int64          `json:"revoked"`
	Kept    map[int64]string `json:"kept,omitempty"` // code id: why it stays
}

// RevokePerson revokes every code of a person, each on its own: a code that is some
// lock's last way in stays (make before break), and the answer says which and why.
func (s *Service) RevokePerson(ctx context.Context, personID int64) (*PersonRevocation, error) {
	if _, err := s.FindPersonByID(ctx, personID); err != nil {
		return nil, err
	}
	var codes []*Code
	for offset := 0; ; offset += 1000 {
		page, _, err := s.FindCodes(ctx, CodeFilter{PersonID: &personID}, Page{Offset: offset, Limit: 1000})
		if err != nil {
			return nil, err
		}
		codes = append(codes, page...)
		if len(page) < 1000 {
			break
		}
	}
	out := &PersonRevocation{Revoked: []int64{}, Kept: map[int64]string{}}
	for _, c := range codes {
		if c.Revoked {
			continue
		}
		if _, err := s.RevokeCode(ctx, c.ID); err != nil {
			if ErrorCode(err) != EUNSAFE {
				return out, err
			}
			out.Kept[c.ID] = ErrorMessage(err)
			continue
		}
		out.Revoked = append(out.Revoked, c.ID)
	}
	return out, nil
}

// ProgrammingRefusal says why codes may not be programmed on a lock now (no keypad,
// unidentified model, low battery, quarantine), or nil when they may: pages offer to
// add a code only where CreateCode would accept one.
func (s *Service) ProgrammingRefusal(l *Lock) error { return s.checkProgrammable(l) }
