package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/vault"
)

// keyInventoryCommands are the key verbs that work on the records.
func (m *Main) keyInventoryCommands() []*cobra.Command {
	var k latchkey.Key
	var holders []int64
	var location string
	add := &cobra.Command{
		Use: "add --site ID --bitting B LABEL", Short: "Record a key, its bitting, and who holds its copies",
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			k.Label, k.Copies = args[0], nil
			for _, h := range holders {
				k.Copies = append(k.Copies, latchkey.KeyCopy{HolderID: h})
			}
			if location != "" {
				k.Copies = append(k.Copies, latchkey.KeyCopy{Location: location})
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.CreateKey(ctx, &k); err != nil {
					return err
				}
				return m.emit(k, func(w io.Writer) {
					fmt.Fprintf(w, "Recorded key %d: %s (%s).\n", k.ID, k.Label, plural(len(k.Copies), "copy"))
				})
			})
		}),
	}
	add.Flags().Int64Var(&k.SiteID, "site", 0, "the site's id (required)")
	add.Flags().StringVar(&k.Bitting, "bitting", "", "the key's bitting, such as 35242 (required)")
	add.Flags().StringVar(&k.Keyway, "keyway", "KW1", "keyway")
	add.Flags().Int64SliceVar(&holders, "holder", nil, "a person holding a copy (repeat for each copy)")
	add.Flags().StringVar(&location, "spare", "", "where a spare copy is kept")
	_ = add.MarkFlagRequired("site")
	_ = add.MarkFlagRequired("bitting")

	var page latchkey.Page
	var siteID int64
	ls := &cobra.Command{
		Use: "ls", Short: "List recorded keys", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var f latchkey.KeyFilter
			if siteID != 0 {
				f.SiteID = &siteID
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				keys, total, err := s.FindKeys(ctx, f, page)
				if err != nil {
					return err
				}
				n := newNames(ctx, s)
				return m.emit(listView[*latchkey.Key]{keys, total}, func(w io.Writer) {
					table(w, "ID\tSITE\tLABEL\tKEYWAY\tSTATE\tCOPIES", func(tw io.Writer) {
						for _, k := range keys {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", k.ID, n.site(k.SiteID), k.Label, k.Keyway, k.State, len(k.Copies))
						}
					})
				})
			})
		}),
	}
	ls.Flags().Int64Var(&siteID, "site", 0, "only this site's keys")
	pageFlags(ls, &page)

	show := &cobra.Command{
		Use: "show ID", Short: "Show a key and where its copies are", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("key", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				k, err := s.FindKeyByID(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(k, func(w io.Writer) { writeKey(w, k, newNames(ctx, s)) })
			})
		}),
	}

	var copyHolder int64
	var copyLocation string
	copyCmd := &cobra.Command{Use: "copy", Short: "Copies of a key: add one, or record where one went"}
	group(copyCmd)
	copyAdd := &cobra.Command{
		Use: "add KEY (--holder PERSON | --spare WHERE)", Short: "Record another copy of a key", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("key", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				k, err := s.AddKeyCopy(ctx, id, latchkey.KeyCopy{HolderID: copyHolder, Location: copyLocation})
				if err != nil {
					return err
				}
				return m.emit(k, func(w io.Writer) { writeKey(w, k, newNames(ctx, s)) })
			})
		}),
	}
	copyAdd.Flags().Int64Var(&copyHolder, "holder", 0, "the person who holds it")
	copyAdd.Flags().StringVar(&copyLocation, "spare", "", "where it is kept")
	copySet := &cobra.Command{
		Use: "set KEY COPY held|to_return|returned|lost", Short: "Record where a copy is now", Args: cobra.ExactArgs(3),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			keyID, err := idArg("key", args[0])
			if err != nil {
				return err
			}
			copyID, err := idArg("copy", args[1])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				k, err := s.SetKeyCopyState(ctx, keyID, copyID, latchkey.CopyState(args[2]))
				if err != nil {
					return err
				}
				return m.emit(k, func(w io.Writer) { writeKey(w, k, newNames(ctx, s)) })
			})
		}),
	}
	copyCmd.AddCommand(copyAdd, copySet)

	state := func(use, short string, st latchkey.KeyState) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, args []string) error {
				id, err := idArg("key", args[0])
				if err != nil {
					return err
				}
				return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
					k, err := s.SetKeyState(ctx, id, st)
					if err != nil {
						return err
					}
					return m.emit(k, func(w io.Writer) {
						fmt.Fprintf(w, "Key %d (%s) is now %s.\n", k.ID, k.Label, k.State)
						if st == latchkey.KeyLost {
							fmt.Fprintln(w, "Every lock it opens is marked exposed until it is rekeyed: 'latchkey lock ls --status exposed'.")
						}
					})
				})
			}),
		}
	}
	reveal := &cobra.Command{
		Use: "reveal ID", Short: "Show a key's bitting (recorded in the audit log)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("key", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				b, err := s.RevealBitting(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"id": id, "bitting": b}, func(w io.Writer) { fmt.Fprintln(w, b) })
			})
		}),
	}
	return []*cobra.Command{add, ls, show, reveal, copyCmd,
		state("lost", "Record that a key was lost: every lock it opens becomes exposed", latchkey.KeyLost),
		state("retire", "Retire a key no lock uses any more", latchkey.KeyRetired),
		state("rm", "Remove a key from use (retire it; its record stays)", latchkey.KeyRetired)}
}

func writeKey(w io.Writer, k *latchkey.Key, n *names) {
	fmt.Fprintf(w, "Key %d: %s, %s, %s (its cuts are sealed: latchkey key reveal %d)\n", k.ID, k.Label, k.Keyway, k.State, k.ID)
	for _, c := range k.Copies {
		who := "kept at " + c.Location
		if c.HolderID != 0 {
			who = "held by " + n.person(c.HolderID)
		}
		fmt.Fprintf(w, "  copy %d: %s, %s\n", c.ID, who, c.State)
	}
}

// codeInventoryCommands are the code verbs that work on the records.
func (m *Main) codeInventoryCommands() []*cobra.Command {
	var (
		req                  latchkey.NewCode
		pinArg, window, week string
	)
	add := &cobra.Command{
		Use:   "add --person ID --lock ID[,ID] LABEL",
		Short: "Add a code for a person on one or more locks",
		Long: `Add a code for a person on one or more locks. Without --pin, Latchkey generates one
under every lock's rules and prints it once. --pin - reads the code from standard input, so
that it stays out of the shell history. The code waits on each lock until it is confirmed
there (--confirmed if you already programmed and tested it at the door).

A code is valid always, or only in a window (--window START,END; times without a zone are
the time at the lock's site), or on weekly hours (--weekly "mon-fri 08:00-17:00, sat
10:00-14:00", the site's wall-clock hours), and for a number of uses (--uses N,
--one-time).`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			req.Code.Label = args[0]
			if window != "" && week != "" {
				return usagef("give --window or --weekly, not both: a code is valid in one window, or on weekly hours")
			}
			pin, err := m.readCode(pinArg)
			if err != nil {
				return err
			}
			if pinArg == "" {
				pin = ""
			}
			req.PIN = pin
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				// A window's times without a zone are read in the time zone of the site
				// of the (first) lock, as they are shown.
				var zone *time.Location
				if len(req.LockIDs) > 0 {
					zone = newNames(ctx, s).lockZone(req.LockIDs[0])
				}
				var err error
				if req.Code.Schedule, err = scheduleFlags(window, week, zone); err != nil {
					return err
				}
				c, pin, err := s.CreateCode(ctx, req)
				if err != nil {
					return err
				}
				view := map[string]any{"id": c.ID, "label": c.Label, "pin": pin, "locks": req.LockIDs}
				return m.emit(view, func(w io.Writer) {
					fmt.Fprintf(w, "Added code %d (%s): %s\n", c.ID, c.Label, pin)
					if !req.Confirmed {
						fmt.Fprintf(w, "Locks on a hub get it from the sync engine (latchkey code show %d follows it); at any other, program it at the keypad, test it, then: latchkey code confirm %d --lock ID\n", c.ID, c.ID)
					}
				})
			})
		}),
	}
	f := add.Flags()
	f.Int64Var(&req.Code.PersonID, "person", 0, "whose code it is (required)")
	f.Int64SliceVar(&req.LockIDs, "lock", nil, "the locks to put it on (required)")
	f.StringVar(&pinArg, "pin", "", "the code to use; - reads it from standard input; default: generate one")
	f.BoolVar(&req.Confirmed, "confirmed", false, "already programmed and tested at each lock")
	f.StringVar(&window, "window", "", "valid from START to END only: 2026-12-04T15:00,2026-12-06T11:00 (RFC 3339, or the time at the lock's site)")
	f.StringVar(&week, "weekly", "", "valid on weekly hours only: \"mon-fri 08:00-17:00\"")
	f.IntVar(&req.Code.UseLimit, "uses", 0, "how many times it may be used (0: no limit)")
	f.BoolVar(&req.Code.OneTime, "one-time", false, "valid for one use")
	_ = add.MarkFlagRequired("person")
	_ = add.MarkFlagRequired("lock")

	var page latchkey.Page
	var lockID, personID int64
	ls := &cobra.Command{
		Use: "ls", Short: "List codes (never their digits) and where they stand", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var f latchkey.CodeFilter
			if lockID != 0 {
				f.LockID = &lockID
			}
			if personID != 0 {
				f.PersonID = &personID
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				codes, total, err := s.FindCodes(ctx, f, page)
				if err != nil {
					return err
				}
				n := newNames(ctx, s)
				// A window's dates read in the site's time zone: one look-up when every
				// site shares one, else one per code (the site of its first lock).
				zone := n.codeZone
				if loc := n.onlyZone(); loc != nil {
					zone = func(int64) *time.Location { return loc }
				}
				return m.emit(listView[*latchkey.Code]{codes, total}, func(w io.Writer) {
					table(w, "ID\tPERSON\tLABEL\tVALID\tREVOKED", func(tw io.Writer) {
						for _, c := range codes {
							valid := c.Validity(nil)
							if c.Schedule.Kind == latchkey.ScheduleWindow {
								valid = c.Validity(zone(c.ID))
							}
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", c.ID, n.person(c.PersonID), c.Label, valid, yesNo(c.Revoked))
						}
					})
				})
			})
		}),
	}
	ls.Flags().Int64Var(&lockID, "lock", 0, "only codes on this lock")
	ls.Flags().Int64Var(&personID, "person", 0, "only this person's codes")
	pageFlags(ls, &page)

	show := &cobra.Command{
		Use: "show ID", Short: "Show a code: whose it is, when it is valid, and where it stands on each lock", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("code", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				c, err := s.FindCodeByID(ctx, id)
				if err != nil {
					if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
						return latchkey.Errorf(latchkey.ENOTFOUND, "No code %d; 'latchkey code ls' lists the codes.", id)
					}
					return err
				}
				grants, err := s.FindGrants(ctx, latchkey.GrantFilter{CodeID: &id})
				if err != nil {
					return err
				}
				n := newNames(ctx, s)
				var zone *time.Location
				if len(grants) > 0 {
					zone = n.lockZone(grants[0].LockID)
				}
				view := codeView{Code: c, Valid: c.Validity(zone), Grants: grants}
				if view.Grants == nil {
					view.Grants = []*latchkey.Grant{}
				}
				return m.emit(view, func(w io.Writer) { writeCode(w, view, n) })
			})
		}),
	}

	var confirmLock int64
	confirm := &cobra.Command{
		Use: "confirm ID --lock ID", Short: "Record that a lock confirmed a code's change (set, or removed)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("code", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				g, err := s.ConfirmCode(ctx, id, confirmLock)
				if err != nil {
					return err
				}
				return m.emit(g, func(w io.Writer) { fmt.Fprintf(w, "Code %d on lock %d is now %s.\n", id, g.LockID, g.Status) })
			})
		}),
	}
	confirm.Flags().Int64Var(&confirmLock, "lock", 0, "the lock that confirmed it (required)")
	_ = confirm.MarkFlagRequired("lock")

	var retryLock int64
	retry := &cobra.Command{
		Use: "retry ID --lock ID", Short: "Have the sync engine try a failed code on a lock again (after fixing why the lock refused it)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("code", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				g, err := s.RetrySync(ctx, id, retryLock)
				if err != nil {
					return err
				}
				return m.emit(g, func(w io.Writer) { fmt.Fprintf(w, "Code %d goes to lock %d again (now %s).\n", id, g.LockID, g.Status) })
			})
		}),
	}
	retry.Flags().Int64Var(&retryLock, "lock", 0, "the lock to try it on (required)")
	_ = retry.MarkFlagRequired("lock")

	rm := &cobra.Command{
		Use: "rm ID", Short: "Revoke a code on every lock (pending until each lock confirms)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("code", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				c, err := s.RevokeCode(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(c, func(w io.Writer) {
					fmt.Fprintf(w, "Code %d (%s) revoked. Locks on a hub have it removed by the sync engine and read back; at any other, remove it at the keypad, then: latchkey code confirm %d --lock ID. Until then it is listed as still to remove.\n", c.ID, c.Label, c.ID)
				})
			})
		}),
	}

	reveal := &cobra.Command{
		Use: "reveal ID", Short: "Show a code's digits (recorded in the audit log)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("code", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				pin, err := s.RevealCode(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"id": id, "pin": pin}, func(w io.Writer) { fmt.Fprintln(w, pin) })
			})
		}),
	}
	return []*cobra.Command{add, ls, show, confirm, retry, rm, reveal, m.codeAdoptCommand()}
}

// codeView is a code with its validity in words and its place on each lock.
type codeView struct {
	Code   *latchkey.Code    `json:"code"`
	Valid  string            `json:"valid"` // Code.Validity, a window's dates in the site's time zone
	Grants []*latchkey.Grant `json:"grants"`
}

func writeCode(w io.Writer, v codeView, n *names) {
	c := v.Code
	fmt.Fprintf(w, "Code %d: %s, held by %s; its digits are sealed (latchkey code reveal %d)\n", c.ID, c.Label, n.person(c.PersonID), c.ID)
	for _, row := range [][2]string{
		{"Valid", v.Valid},
		{"Added", c.CreatedAt.Format("2006-01-02 15:04")},
		{"Revoked", yesNo(c.Revoked)},
	} {
		fmt.Fprintf(w, "  %-8s %s\n", row[0]+":", row[1])
	}
	if len(v.Grants) == 0 {
		return
	}
	table(w, "  LOCK\tSLOT\tSTATUS\tSINCE\tNEXT ATTEMPT", func(tw io.Writer) {
		for _, g := range v.Grants {
			status := string(g.Status)
			switch {
			case g.Status == latchkey.GrantRemoving && c.Revoked:
				status = "revocation pending"
			case g.Status == latchkey.GrantRemoving:
				status = "being removed (its time ended)"
			}
			if g.Problem != "" {
				status += " (" + g.Problem.Describe() + ")"
			}
			next := "-"
			if g.NextAttempt != nil {
				zone := n.lockZone(g.LockID)
				if zone == nil {
					zone = time.UTC
				}
				next = g.NextAttempt.In(zone).Format(time.DateTime)
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", n.lock(g.LockID), g.Slot, status, g.UpdatedAt.Format(time.DateTime), next)
		}
	})
	// What is wrong, lock by lock, in full.
	for _, g := range v.Grants {
		if g.Alert != "" {
			fmt.Fprintf(w, "  ALERT on %s: %s\n", n.lock(g.LockID), g.Alert)
		}
		if g.Reason != "" {
			fmt.Fprintf(w, "  On %s: %s\n", n.lock(g.LockID), g.Reason)
		}
		for _, warn := range g.Warnings {
			fmt.Fprintf(w, "  Warning on %s: %s\n", n.lock(g.LockID), strings.ReplaceAll(string(warn), "_", " "))
		}
	}
}

// scheduleFlags builds a schedule from --window and --weekly, reading a window's times
// without a zone in loc (the site's time zone; nil: this computer's).
func scheduleFlags(window, weekly string, loc *time.Location) (latchkey.Schedule, error) {
	switch {
	case window != "" && weekly != "":
		return latchkey.Schedule{}, latchkey.Errorf(latchkey.EINVALID, "Give --window or --weekly, not both.")
	case window != "":
		from, until, ok := strings.Cut(window, ",")
		if !ok {
			return latchkey.Schedule{}, latchkey.Errorf(latchkey.EINVALID, "--window takes START,END, such as 2026-12-04T15:00,2026-12-06T11:00.")
		}
		start, err := parseWhen(from, loc)
		if err != nil {
			return latchkey.Schedule{}, err
		}
		end, err := parseWhen(until, loc)
		if err != nil {
			return latchkey.Schedule{}, err
		}
		s := latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}
		return s, s.Validate()
	case weekly != "":
		hours, err := latchkey.ParseWeekly(weekly)
		return latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: hours}, err
	}
	return latchkey.Schedule{Kind: latchkey.ScheduleAlways}, nil
}

// parseWhen reads RFC 3339, or a date and time without a zone in loc (nil: this
// computer's time zone).
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, latchkey.Errorf(latchkey.EINVALID, "%q is not a time; write it as 2026-12-04T15:00 (the time at the lock's site) or in RFC 3339.", s)
}

func (m *Main) vaultCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "vault", Short: "The key that encrypts codes at rest"}
	group(cmd)
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Make a new vault key and re-encrypt every code with it",
		Long: `Make a new vault key and re-encrypt every code with it. The old key stays in the key
file until every code is re-encrypted, so an interruption loses nothing; run it again to
finish.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if err := m.requireRecords(); err != nil {
				return err
			}
			return m.withService(cmd, func(ctx context.Context, svc *latchkey.Service) error {
				v, ok := svc.Vault.(*vault.Vault)
				if !ok {
					return latchkey.Errorf(latchkey.EINTERNAL, "vault cannot rotate")
				}
				if err := v.Rotate(); err != nil {
					return err
				}
				n, err := svc.ResealSecrets(ctx)
				if err != nil {
					return err
				}
				if err := v.Retire(); err != nil {
					return err
				}
				_, current := v.KeyIDs()
				return m.emit(map[string]any{"resealed": n, "key": current}, func(w io.Writer) {
					fmt.Fprintf(w, "Rotated the vault key (now key %d, in %s) and re-encrypted %d secrets (codes and key bittings).\n", current, filepath.Join(m.dataDir, "vault.key"), n)
				})
			})
		}),
	})
	return cmd
}
