package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

// Commands that change the records of sites, doors and people, and revoke everything a
// person holds.

// changedStrings returns, for each flag that was given, a pointer to its value: a nil
// field of an update stays as it is.
func changedStrings(cmd *cobra.Command, flags map[string]**string) {
	for name, dst := range flags {
		if cmd.Flags().Changed(name) {
			v, _ := cmd.Flags().GetString(name)
			*dst = &v
		}
	}
}

func (m *Main) siteSetCommand() *cobra.Command {
	var u latchkey.SiteUpdate
	cmd := &cobra.Command{
		Use: "set ID [--name N] [--address A] [--tz ZONE] [--lead MINUTES]", Short: "Change a site's name, address, time zone or code lead time", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("site", args[0])
			if err != nil {
				return err
			}
			changedStrings(cmd, map[string]**string{"name": &u.Name, "address": &u.Address, "tz": &u.TimeZone})
			if cmd.Flags().Changed("lead") {
				lead, _ := cmd.Flags().GetInt("lead")
				u.CodeLeadMinutes = &lead
			}
			if u == (latchkey.SiteUpdate{}) {
				return usagef("say what to change: --name, --address, --tz or --lead")
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				site, err := s.UpdateSite(ctx, id, u)
				if err != nil {
					return err
				}
				return m.emit(site, func(w io.Writer) { fmt.Fprintf(w, "Site %d: %s (%s).\n", site.ID, site.Name, site.TimeZone) })
			})
		}),
	}
	cmd.Flags().String("name", "", "the site's name")
	cmd.Flags().String("address", "", "its address")
	cmd.Flags().String("tz", "", "its IANA time zone, such as America/Chicago")
	cmd.Flags().Int("lead", 0, "minutes before a code's time starts that it goes on the site's locks (1 to 10080; 0: the default, 60)")
	return cmd
}

func (m *Main) doorSetCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use: "set ID --name NAME", Short: "Rename a door", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("door", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				d, err := s.UpdateDoor(ctx, id, name)
				if err != nil {
					return err
				}
				return m.emit(d, func(w io.Writer) { fmt.Fprintf(w, "Door %d: %s.\n", d.ID, d.Name) })
			})
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the door's new name (required)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (m *Main) personSetCommand() *cobra.Command {
	var u latchkey.PersonUpdate
	cmd := &cobra.Command{
		Use: "set ID [--name N] [--role R] [--phone P] [--email E]", Short: "Change a person's record", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("person", args[0])
			if err != nil {
				return err
			}
			changedStrings(cmd, map[string]**string{"name": &u.Name, "phone": &u.Phone, "email": &u.Email})
			if cmd.Flags().Changed("role") {
				v, _ := cmd.Flags().GetString("role")
				role, err := personRole(v)
				if err != nil {
					return err
				}
				u.Role = &role
			}
			if u == (latchkey.PersonUpdate{}) {
				return usagef("say what to change: --name, --role, --phone or --email")
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				p, err := s.UpdatePerson(ctx, id, u)
				if err != nil {
					return err
				}
				return m.emit(p, func(w io.Writer) { fmt.Fprintf(w, "Person %d: %s, %s.\n", p.ID, p.Name, p.Role) })
			})
		}),
	}
	cmd.Flags().String("name", "", "their name")
	cmd.Flags().String("role", "", "owner, family, tenant, guest or service")
	cmd.Flags().String("phone", "", "phone number")
	cmd.Flags().String("email", "", "email address")
	return cmd
}

func (m *Main) personRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke every code of a person (a lock's last way in stays; each is gone once its locks confirm)",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("person", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				r, err := s.RevokePerson(ctx, id)
				if err != nil {
					return err
				}
				kept := slices.Sorted(maps.Keys(r.Kept))
				err = m.emit(r, func(w io.Writer) {
					switch len(r.Revoked) {
					case 0:
						fmt.Fprintln(w, "No code revoked.")
					default:
						fmt.Fprintf(w, "Revoked %s; each is revocation pending until its locks confirm.\n", plural(len(r.Revoked), "code"))
					}
					for _, code := range kept {
						fmt.Fprintf(w, "Kept code %d: %s\n", code, r.Kept[code])
					}
				})
				if err == nil && len(kept) > 0 {
					// The person still has a way in: a script must not take this for done.
					err = latchkey.Errorf(latchkey.EUNSAFE, "%s kept, as shown above.", plural(len(kept), "code"))
				}
				return err
			})
		}),
	}
}

// personRole reads --role for a person: a wrong one is a usage error, exit 2.
func personRole(s string) (latchkey.PersonRole, error) {
	r := latchkey.PersonRole(s)
	if err := r.Validate(); err != nil {
		return "", usagef("--role: %s", strings.TrimSuffix(latchkey.ErrorMessage(err), "."))
	}
	return r, nil
}

// plural says "1 code" or "3 codes", "1 copy" or "2 copies".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if l := len(noun); l > 1 && noun[l-1] == 'y' && !strings.ContainsRune("aeiou", rune(noun[l-2])) {
		return fmt.Sprintf("%d %sies", n, noun[:l-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
