package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// defaultDataDir is where the embedded store lives unless --data or LATCHKEY_DATA says
// otherwise: the XDG data directory.
func defaultDataDir() string {
	if d := os.Getenv("LATCHKEY_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "latchkey")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "latchkey")
	}
	return "latchkey-data"
}

// records opens the store named by --db, or the data directory's SQLite database, with
// the data directory's vault, and returns the service over them.
func (m *Main) records(ctx context.Context) (*latchkey.Service, func(), error) {
	if err := os.MkdirAll(m.dataDir, 0o700); err != nil {
		return nil, nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot create the data directory %s: %v. Choose another with --data.", m.dataDir, err)
	}
	v, err := vault.Open(filepath.Join(m.dataDir, "vault.key"))
	if err != nil {
		return nil, nil, err
	}
	var store latchkey.Store
	if m.dbURL != "" {
		store, err = postgres.Open(ctx, m.dbURL)
	} else {
		store, err = sqlite.Open(ctx, filepath.Join(m.dataDir, "latchkey.db"))
	}
	if err != nil {
		return nil, nil, err
	}
	svc := &latchkey.Service{Store: store, Vault: v, Models: rules{Catalog: m.Catalog, Random: m.Random}, Clock: latchkey.SystemClock{}}
	// Keys recorded before bittings were sealed are sealed now, once (a no-op after).
	if _, err := svc.SealBittings(latchkey.NewContextWithActor(ctx, "latchkey")); err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() { store.Close() }, nil
}

// withRecords runs f with the record service: the server's, through its API, when
// --server is given or a demo runs from this directory, else the local data
// directory's, acting as the local user.
func (m *Main) withRecords(cmd *cobra.Command, f func(ctx context.Context, s latchkey.RecordService) error) error {
	if c, ok := m.remote(); ok {
		return f(cmd.Context(), c)
	}
	if m.storageUnchosen(cmd) && demoHere() {
		if demo, ok := discoverDemo(); ok {
			fmt.Fprintf(m.Stderr, "Working on the demo running at %s (from ./%s); --data chooses local records instead.\n", demo.URL, demoDir)
			return f(cmd.Context(), lkhttp.NewClient(demo.URL, demo.Token))
		}
		fmt.Fprintf(m.Stderr, "The demo in ./%s is not running (start it with 'latchkey demo'); working on the records in %s instead (--data ./%s chooses the demo's).\n",
			demoDir, m.dataDir, demoDir)
	}
	return m.local(cmd, func(ctx context.Context, s *latchkey.Service) error { return f(ctx, s) })
}

// requireRecords refuses to work on a data directory that holds no records yet, for what
// only reads them (a backup, a key rotation): making a new, empty one there would succeed
// at nothing.
func (m *Main) requireRecords() error {
	if m.dbURL != "" || m.server != "" {
		return nil // PostgreSQL holds its own; a server is refused by withService, saying why
	}
	if _, err := os.Stat(filepath.Join(m.dataDir, "latchkey.db")); err != nil {
		return latchkey.Errorf(latchkey.ENOTFOUND, "There are no records in %s (no latchkey.db there); name the data directory with --data or LATCHKEY_DATA.", m.dataDir)
	}
	return nil
}

// demoHere reports whether this directory holds a demo's records.
func demoHere() bool {
	_, err := os.Stat(filepath.Join(demoDir, demoMarker))
	return err == nil
}

// storageUnchosen reports whether the records' place was left to the defaults: no
// --data or --db, on the command line or in the environment.
func (m *Main) storageUnchosen(cmd *cobra.Command) bool {
	for _, env := range []string{"LATCHKEY_DATA", "LATCHKEY_DB"} {
		if os.Getenv(env) != "" {
			return false
		}
	}
	return !cmd.Flags().Changed("data") && !cmd.Flags().Changed("db")
}

// withService runs f with the local service itself, for what only works next to the data
// directory (backup, restore, vault rotation, accounts). In a directory holding a demo it
// does not guess: the data directory must be named, so that a backup, say, never quietly
// reads another directory than the one meant.
func (m *Main) withService(cmd *cobra.Command, f func(ctx context.Context, s *latchkey.Service) error) error {
	if m.server != "" {
		return latchkey.Errorf(latchkey.EINVALID, "'%s' works on a local data directory only, next to its vault key; run it where the server's data is, without --server.", cmd.CommandPath())
	}
	if m.storageUnchosen(cmd) && demoHere() {
		return usagef("this directory holds the demo (./%s), and '%s' works on a data directory: name it, --data ./%s for the demo's records or --data DIR for others", demoDir, cmd.CommandPath(), demoDir)
	}
	return m.local(cmd, f)
}

// local runs f with the service over the local data directory (or --db).
func (m *Main) local(cmd *cobra.Command, f func(ctx context.Context, s *latchkey.Service) error) error {
	ctx := latchkey.NewContextWithActor(cmd.Context(), "cli:"+localUser())
	svc, closeFn, err := m.records(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	return f(ctx, svc)
}

// localUser names the person at the command line, for the audit log.
func localUser() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := os.Getenv(k); u != "" {
			return u
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// idArg parses a record id argument.
func idArg(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%q is not a %s id; ids are whole numbers, as 'latchkey %s ls' shows them.", s, what, what)
	}
	return id, nil
}

// dateFlag parses an optional YYYY-MM-DD date.
func dateFlag(name, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "--%s %q is not a date; write it as YYYY-MM-DD.", name, s)
	}
	return &t, nil
}

type listView[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func table(w io.Writer, header string, rows func(tw io.Writer)) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	tw.Flush()
}

func pageFlags(cmd *cobra.Command, p *latchkey.Page) {
	cmd.Flags().IntVar(&p.Limit, "limit", 100, "how many to list (at most 1000)")
	cmd.Flags().IntVar(&p.Offset, "offset", 0, "how many to skip")
}

func (m *Main) siteCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "site", Short: "Sites: the homes and buildings that hold doors"}
	group(cmd)
	var site latchkey.Site
	add := &cobra.Command{
		Use: "add NAME", Short: "Add a site", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			site.Name = args[0]
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.CreateSite(ctx, &site); err != nil {
					return err
				}
				return m.emit(site, func(w io.Writer) { fmt.Fprintf(w, "Added site %d: %s.\n", site.ID, site.Name) })
			})
		}),
	}
	add.Flags().StringVar(&site.Address, "address", "", "street address")
	add.Flags().StringVar(&site.TimeZone, "tz", "UTC", "IANA time zone for the site's schedules (America/Chicago)")
	add.Flags().IntVar(&site.CodeLeadMinutes, "lead", latchkey.DefaultCodeLeadMinutes, "minutes before a code's time starts that it goes on the site's locks (1 to 10080)")
	var page latchkey.Page
	ls := &cobra.Command{
		Use: "ls", Short: "List sites", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				sites, total, err := s.FindSites(ctx, page)
				if err != nil {
					return err
				}
				return m.emit(listView[*latchkey.Site]{sites, total}, func(w io.Writer) {
					table(w, "ID\tNAME\tTIME ZONE\tADDRESS", func(tw io.Writer) {
						for _, st := range sites {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", st.ID, st.Name, st.TimeZone, st.Address)
						}
					})
				})
			})
		}),
	}
	pageFlags(ls, &page)
	rm := &cobra.Command{
		Use: "rm ID", Short: "Remove a site that has no doors", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("site", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.DeleteSite(ctx, id); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed site %d.\n", id) })
			})
		}),
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show a site and its doors", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("site", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				site, err := s.FindSiteByID(ctx, id)
				if err != nil {
					return err
				}
				doors, _, err := s.FindDoors(ctx, latchkey.DoorFilter{SiteID: &id}, latchkey.Page{Limit: 1000})
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"site": site, "doors": doors}, func(w io.Writer) {
					fmt.Fprintf(w, "Site %d: %s (%s)%s\n", site.ID, site.Name, site.TimeZone, prefixed(", ", site.Address))
					fmt.Fprintf(w, "  codes with a time go on its locks %s before it starts\n", site.CodeLeadText())
					for _, d := range doors {
						fmt.Fprintf(w, "  door %d: %s\n", d.ID, d.Name)
					}
				})
			})
		}),
	}
	cmd.AddCommand(add, ls, show, rm, m.siteSetCommand())
	return cmd
}

func (m *Main) doorCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "door", Short: "Doors: each on a site, carrying one or two locks"}
	group(cmd)
	var door latchkey.Door
	add := &cobra.Command{
		Use: "add --site ID NAME", Short: "Add a door to a site", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			door.Name = args[0]
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.CreateDoor(ctx, &door); err != nil {
					return err
				}
				return m.emit(door, func(w io.Writer) { fmt.Fprintf(w, "Added door %d: %s.\n", door.ID, door.Name) })
			})
		}),
	}
	add.Flags().Int64Var(&door.SiteID, "site", 0, "the site's id (required)")
	_ = add.MarkFlagRequired("site")
	var page latchkey.Page
	var siteID int64
	ls := &cobra.Command{
		Use: "ls", Short: "List doors", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var f latchkey.DoorFilter
			if siteID != 0 {
				f.SiteID = &siteID
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				doors, total, err := s.FindDoors(ctx, f, page)
				if err != nil {
					return err
				}
				n := newNames(ctx, s)
				return m.emit(listView[*latchkey.Door]{doors, total}, func(w io.Writer) {
					table(w, "ID\tSITE\tNAME", func(tw io.Writer) {
						for _, d := range doors {
							fmt.Fprintf(tw, "%d\t%s\t%s\n", d.ID, n.site(d.SiteID), d.Name)
						}
					})
				})
			})
		}),
	}
	ls.Flags().Int64Var(&siteID, "site", 0, "only this site's doors")
	pageFlags(ls, &page)
	rm := &cobra.Command{
		Use: "rm ID", Short: "Remove a door that has no locks", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("door", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.DeleteDoor(ctx, id); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed door %d.\n", id) })
			})
		}),
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show a door and its locks", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("door", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				d, err := s.FindDoorByID(ctx, id)
				if err != nil {
					return err
				}
				locks, _, err := s.FindLocks(ctx, latchkey.LockFilter{DoorID: &id}, latchkey.Page{Limit: 1000})
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"door": d, "locks": locks}, func(w io.Writer) {
					fmt.Fprintf(w, "Door %d: %s (site %d)\n", d.ID, d.Name, d.SiteID)
					for _, l := range locks {
						fmt.Fprintf(w, "  lock %d: %s, %s, %s\n", l.ID, l.Name, or(l.ModelID, "unidentified"), l.Status)
					}
				})
			})
		}),
	}
	cmd.AddCommand(add, ls, show, rm, m.doorSetCommand())
	return cmd
}

func (m *Main) lockCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "lock", Short: "Locks: each on a door, with its model, serial number and dates"}
	group(cmd)
	var l latchkey.Lock
	var purchased, installed, driver string
	add := &cobra.Command{
		Use: "add --door ID NAME", Short: "Add a lock to a door",
		Long: `Add a lock to a door. Give its catalog model with --model (latchkey models ls, or
latchkey models identify); without one the lock is recorded as unidentified, and no
procedure runs on it until it is identified.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			l.Name = args[0]
			var err error
			if l.PurchasedAt, err = dateFlag("purchased", purchased); err != nil {
				return err
			}
			if l.InstalledAt, err = dateFlag("installed", installed); err != nil {
				return err
			}
			l.Connection.Driver = latchkey.Driver(driver)
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.CreateLock(ctx, &l); err != nil {
					return err
				}
				return m.emit(l, func(w io.Writer) { fmt.Fprintf(w, "Added lock %d: %s (%s).\n", l.ID, l.Name, l.Status) })
			})
		}),
	}
	f := add.Flags()
	f.Int64Var(&l.DoorID, "door", 0, "the door's id (required)")
	f.StringVar(&l.ModelID, "model", "", "catalog model id (916, smartkey, ...)")
	f.BoolVar(&l.HasSmartKey, "smartkey", false, "the lock has a SmartKey cylinder")
	f.StringVar(&l.SerialNumber, "serial", "", "serial number from the label")
	f.StringVar(&purchased, "purchased", "", "purchase date, YYYY-MM-DD")
	f.StringVar(&installed, "installed", "", "install date, YYYY-MM-DD")
	f.StringVar(&l.Notes, "notes", "", "notes")
	f.StringVar(&driver, "driver", "", "how it is reached: sim, zwavejs or zigbee2mqtt")
	f.StringVar(&l.Connection.Address, "address", "", "its address on that driver")
	_ = add.MarkFlagRequired("door")

	var page latchkey.Page
	var doorID, siteID int64
	var status string
	ls := &cobra.Command{
		Use: "ls", Short: "List locks", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var f latchkey.LockFilter
			if doorID != 0 {
				f.DoorID = &doorID
			}
			if siteID != 0 {
				f.SiteID = &siteID
			}
			if status != "" {
				st := latchkey.LockStatus(status)
				f.Status = &st
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				locks, total, err := s.FindLocks(ctx, f, page)
				if err != nil {
					return err
				}
				// The doors' names, read at once (a door not among them is looked up).
				n := newNames(ctx, s)
				if doors, _, err := s.FindDoors(ctx, latchkey.DoorFilter{SiteID: f.SiteID}, latchkey.Page{Limit: 1000}); err == nil {
					for _, d := range doors {
						n.doors[d.ID] = d.Name
					}
				}
				return m.emit(listView[*latchkey.Lock]{locks, total}, func(w io.Writer) {
					table(w, "ID\tDOOR\tNAME\tMODEL\tNEEDS\tCONNECTION", func(tw io.Writer) {
						for _, l := range locks {
							conn := "-"
							if l.Connection.Driver != "" {
								conn = string(l.Connection.Driver) + ":" + l.Connection.Address
							}
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.ID, n.door(l.DoorID), l.Name, or(l.ModelID, "?"), or(l.Attention.Label, string(l.Status)), conn)
						}
					})
				})
			})
		}),
	}
	ls.Flags().Int64Var(&doorID, "door", 0, "only this door's locks")
	ls.Flags().Int64Var(&siteID, "site", 0, "only this site's locks")
	ls.Flags().StringVar(&status, "status", "", "only locks with this status (ok, exposed, needs_locksmith, ...)")
	pageFlags(ls, &page)
	show := &cobra.Command{
		Use: "show ID", Short: "Show a lock's record", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				rec, err := s.FindLockRecord(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(rec, func(w io.Writer) { m.writeLockRecord(w, rec) })
			})
		}),
	}
	var u struct {
		model, serial, notes, name, purchased, installed, driver, address string
		smartKey                                                          bool
	}
	var keyID int64
	var disconnect bool
	set := &cobra.Command{
		Use: "set ID", Short: "Change a lock's model, key, serial number, dates, notes or name, or disconnect it", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			var upd latchkey.LockUpdate
			reconnect := cmd.Flags().Changed("driver") || cmd.Flags().Changed("address")
			switch {
			case disconnect && reconnect:
				return usagef("Give --disconnect, or --driver and --address, not both.")
			case reconnect && (u.driver == "" || u.address == ""):
				return usagef("Give --driver and --address together: the lock's address on that driver (a Z-Wave node id, a Zigbee IEEE address).")
			case disconnect:
				upd.Connection = &latchkey.Connection{} // no driver, no address: not reached any more
			case reconnect:
				// A lock paired again may have a new address (a Z-Wave node id).
				upd.Connection = &latchkey.Connection{Driver: latchkey.Driver(u.driver), Address: u.address}
			}
			for name, dst := range map[string]**string{"model": &upd.ModelID, "serial": &upd.SerialNumber, "notes": &upd.Notes, "name": &upd.Name} {
				if cmd.Flags().Changed(name) {
					v, _ := cmd.Flags().GetString(name)
					*dst = &v
				}
			}
			if cmd.Flags().Changed("smartkey") {
				upd.HasSmartKey = &u.smartKey
			}
			if upd.PurchasedAt, err = dateFlag("purchased", u.purchased); err != nil {
				return err
			}
			if upd.InstalledAt, err = dateFlag("installed", u.installed); err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				var l *latchkey.Lock
				var err error
				if upd != (latchkey.LockUpdate{}) {
					l, err = s.UpdateLock(ctx, id, upd)
				} else {
					l, err = s.FindLockByID(ctx, id)
				}
				if err != nil {
					return err
				}
				if cmd.Flags().Changed("key") {
					if l, err = s.SetLockKey(ctx, id, keyID); err != nil {
						return err
					}
				}
				return m.emit(l, func(w io.Writer) { m.writeLock(w, l, newNames(ctx, s)) })
			})
		}),
	}
	set.Flags().StringVar(&u.model, "model", "", "catalog model id")
	set.Flags().StringVar(&u.serial, "serial", "", "serial number")
	set.Flags().StringVar(&u.notes, "notes", "", "notes")
	set.Flags().StringVar(&u.name, "name", "", "name")
	set.Flags().Int64Var(&keyID, "key", 0, "the recorded key its cylinder is keyed to (0: none known)")
	set.Flags().StringVar(&u.purchased, "purchased", "", "purchase date, YYYY-MM-DD")
	set.Flags().StringVar(&u.installed, "installed", "", "install date, YYYY-MM-DD")
	set.Flags().BoolVar(&disconnect, "disconnect", false, "clear its connection to a device (once it is off its hub)")
	set.Flags().StringVar(&u.driver, "driver", "", "connect it, or give its new address after pairing again: sim, zwavejs or zigbee2mqtt (with --address)")
	set.Flags().StringVar(&u.address, "address", "", "its address on that driver (with --driver)")
	set.Flags().BoolVar(&u.smartKey, "smartkey", false, "whether it has a SmartKey cylinder (a small slot beside the keyway); --smartkey=false if not")
	var force bool
	rm := &cobra.Command{
		Use: "rm ID [--force]", Short: "Remove a lock's record (one with codes on it or a connection only with --force)", Args: cobra.ExactArgs(1),
		Long: `Remove a lock's record. A lock that still has codes on it (not confirmed removed) or a
connection to a device is refused as unsafe (exit 3), saying what it has: its record is
what says which codes still open the door. Revoke its codes, take it off its hub and
clear its connection (latchkey lock set ID --disconnect) first, or remove the record
anyway with --force. An exposed lock (a lost key opens it) keeps its record until its
rekey is recorded, even with --force.`,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.DeleteLock(ctx, id, force); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed lock %d.\n", id) })
			})
		}),
	}
	rm.Flags().BoolVar(&force, "force", false, "remove it even with codes on it or a connection")
	cmd.AddCommand(add, ls, show, set, rm, m.lockRekeyCommand(), m.lockReprovisionCommand())
	cmd.AddCommand(m.lockSlotCommands()...)
	cmd.AddCommand(m.lockRecordCommands()...)
	return cmd
}

// lockRekeyCommand records a rekey: the one act that clears a lost key's exposure.
func (m *Main) lockRekeyCommand() *cobra.Command {
	var r latchkey.Rekey
	var replaced bool
	cmd := &cobra.Command{
		Use:   "rekey ID --key KEY --tests 3 --both-sides --door-open",
		Short: "Record that a lock was rekeyed (or its cylinder replaced) and takes another key",
		Long: `Record that a lock's cylinder now takes another key: its SmartKey cylinder was
rekeyed, or the cylinder replaced (--replaced). Record the new key first (latchkey key
add). Make before break: try the new key three times from outside and from inside with
the door open, and say so with --tests, --both-sides and --door-open; the record is
refused until then. A lost key's exposure is cleared, and the old key, if no other lock
takes it, is retired with its copies marked to be returned.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			r.LockID = id
			if replaced {
				r.How = latchkey.CylinderReplaced
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				l, err := s.RecordRekey(ctx, r)
				if err != nil {
					return err
				}
				return m.emit(l, func(w io.Writer) {
					fmt.Fprintf(w, "Recorded: lock %d (%s) now takes key %d; status %s.\n", l.ID, l.Name, l.KeyID, l.Status)
				})
			})
		}),
	}
	f := cmd.Flags()
	f.Int64Var(&r.KeyID, "key", 0, "the key the lock takes now (required)")
	f.BoolVar(&replaced, "replaced", false, "the cylinder was replaced rather than rekeyed")
	f.IntVar(&r.Tests, "tests", 0, "how many times the new key worked, from each side")
	f.BoolVar(&r.BothSides, "both-sides", false, "the new key was tried from outside and from inside")
	f.BoolVar(&r.DoorOpen, "door-open", false, "the tries were made with the door open")
	f.StringVar(&r.Note, "note", "", "what else to record (who did it, what was seen)")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// lockReprovisionCommand puts a reset lock's codes back through the sync engine.
func (m *Main) lockReprovisionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reprovision ID",
		Short: "Put a quarantined lock's codes back, once it is paired with its hub again",
		Long: `A lock reset behind Latchkey's back (at the lock, or all its codes deleted) is
quarantined: it holds none of its codes. Pair it with its hub again, then run this: every
code that was on it goes back on through the sync engine, each read back before it counts,
and the lock leaves quarantine. Codes that were being removed are gone with the reset.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				n, err := s.Reprovision(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(map[string]int{"codes_to_put_back": n}, func(w io.Writer) {
					fmt.Fprintf(w, "Lock %d leaves quarantine: %s to put back through its hub (latchkey code ls follows them).\n", id, plural(n, "code"))
				})
			})
		}),
	}
}

func (m *Main) writeLock(w io.Writer, l *latchkey.Lock, n *names) {
	model := "unidentified: run 'latchkey models identify', then 'latchkey lock set " + strconv.FormatInt(l.ID, 10) + " --model ID'"
	if l.ModelID != "" {
		model = l.ModelID
		if md, err := m.Catalog.Model(l.ModelID); err == nil {
			model += " (" + md.Name + ")"
		}
	}
	date := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.DateOnly)
	}
	fmt.Fprintf(w, "Lock %d: %s\n", l.ID, l.Name)
	for _, row := range [][2]string{
		{"Door", n.door(l.DoorID)}, {"Model", model},
		{"Needs", needsText(l.Attention)}, {"State", stateText(l.State)},
		{"SmartKey", yesNo(l.HasSmartKey)}, {"Key", keyText(l.KeyID)}, {"Serial", or(l.SerialNumber, "-")},
		{"Purchased", date(l.PurchasedAt)}, {"Installed", date(l.InstalledAt)},
		{"Connection", or(strings.TrimSuffix(string(l.Connection.Driver)+":"+l.Connection.Address, ":"), "-")},
		{"Notes", or(l.Notes, "-")},
	} {
		fmt.Fprintf(w, "  %-11s %s\n", row[0]+":", row[1])
	}
}

// writeLockRecord writes a lock with its codes, service log, receipts and warranty.
func (m *Main) writeLockRecord(w io.Writer, rec *latchkey.LockRecord) {
	n := &names{people: map[int64]string{}, doors: map[int64]string{rec.Door.ID: rec.Door.Name}}
	for id, p := range rec.People {
		n.people[id] = p.Name
	}
	m.writeLock(w, rec.Lock, n)
	sh := m.sheet(rec)
	if len(sh.Codes) > 0 {
		fmt.Fprintln(w, "  Codes:")
		for _, c := range sh.Codes {
			fmt.Fprintf(w, "    slot %d: %s (%s), %s, valid %s\n", c.Slot, c.Label, c.Person, c.Status, c.Valid)
		}
	}
	for _, e := range rec.Service {
		flag := ""
		if e.WarrantyRelevant {
			flag = " [warranty-relevant]"
		}
		fmt.Fprintf(w, "  Service:    %s %s: %s%s\n", e.At.Format(time.DateOnly), e.Kind, e.Note, flag)
	}
	for _, r := range rec.Receipts {
		fmt.Fprintf(w, "  Receipt %d: %s (%s)\n", r.ID, r.Name, r.ContentType)
	}
	fmt.Fprintf(w, "  Warranty:   %s. %s\n", sh.Warranty.State, sh.Warranty.Reason)
}

// needsText says what a lock needs, or that it needs nothing.
func needsText(a latchkey.Attention) string {
	switch {
	case a.Label == "":
		return "-"
	case a.Why == "":
		return a.Label
	case strings.HasPrefix(strings.ToLower(a.Why), strings.ToLower(a.Label)):
		return a.Why // "Battery low: replace…", not "battery low: Battery low: replace…"
	}
	return a.Label + ": " + a.Why
}

// stateText is what a lock's devices last reported.
func stateText(s latchkey.LockState) string {
	if s.LastSeen == nil {
		return "not reported (not connected, or not heard from yet)"
	}
	text := or(s.Bolt, "bolt unknown")
	if p := s.BatteryPercent(); p > 0 {
		text += fmt.Sprintf(", battery %d%% (%.2f V)", p, float64(s.BatteryMV)/1000)
	}
	return text + ", last heard " + s.LastSeen.Format("2006-01-02 15:04")
}

func keyText(id int64) string {
	if id == 0 {
		return "-"
	}
	return "key " + strconv.FormatInt(id, 10)
}

// prefixed returns sep and s, or nothing when s is empty.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func (m *Main) personCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "person", Short: "People who hold keys or codes"}
	group(cmd)
	var p latchkey.Person
	var role string
	add := &cobra.Command{
		Use: "add NAME", Short: "Add a person", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			r, err := personRole(role)
			if err != nil {
				return err
			}
			p.Name, p.Role = args[0], r
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.CreatePerson(ctx, &p); err != nil {
					return err
				}
				return m.emit(p, func(w io.Writer) { fmt.Fprintf(w, "Added %s %d: %s.\n", p.Role, p.ID, p.Name) })
			})
		}),
	}
	add.Flags().StringVar(&role, "role", "family", "owner, family, tenant, guest or service")
	add.Flags().StringVar(&p.Phone, "phone", "", "phone number")
	add.Flags().StringVar(&p.Email, "email", "", "email address")
	var page latchkey.Page
	ls := &cobra.Command{
		Use: "ls", Short: "List people", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				people, total, err := s.FindPeople(ctx, page)
				if err != nil {
					return err
				}
				return m.emit(listView[*latchkey.Person]{people, total}, func(w io.Writer) {
					table(w, "ID\tNAME\tROLE\tPHONE\tEMAIL", func(tw io.Writer) {
						for _, p := range people {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Role, p.Phone, p.Email)
						}
					})
				})
			})
		}),
	}
	pageFlags(ls, &page)
	rm := &cobra.Command{
		Use: "rm ID", Short: "Remove a person", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("person", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.DeletePerson(ctx, id); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed person %d.\n", id) })
			})
		}),
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show a person", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("person", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				p, err := s.FindPersonByID(ctx, id)
				if err != nil {
					return err
				}
				codes, _, err := s.FindCodes(ctx, latchkey.CodeFilter{PersonID: &id}, latchkey.Page{Limit: 1000})
				if err != nil {
					return err
				}
				keys, _, err := s.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 1000})
				if err != nil {
					return err
				}
				type held struct {
					KeyID  int64              `json:"key_id"`
					Label  string             `json:"label"`
					CopyID int64              `json:"copy_id"`
					State  latchkey.CopyState `json:"state"`
				}
				var copies []held
				for _, k := range keys {
					for _, c := range k.Copies {
						if c.HolderID == id {
							copies = append(copies, held{k.ID, k.Label, c.ID, c.State})
						}
					}
				}
				n := newNames(ctx, s)
				return m.emit(map[string]any{"person": p, "codes": codes, "key_copies": copies}, func(w io.Writer) {
					fmt.Fprintf(w, "Person %d: %s (%s)%s%s\n", p.ID, p.Name, p.Role, prefixed(", ", p.Phone), prefixed(", ", p.Email))
					for _, c := range codes {
						state := "active"
						if c.Revoked {
							state = "revoked"
						}
						fmt.Fprintf(w, "  code %d: %s, %s, valid %s\n", c.ID, c.Label, state, c.Validity(n.codeZone(c.ID)))
					}
					for _, c := range copies {
						fmt.Fprintf(w, "  key %d (%s): copy %d, %s\n", c.KeyID, c.Label, c.CopyID, strings.ReplaceAll(string(c.State), "_", " "))
					}
					if len(codes) == 0 && len(copies) == 0 {
						fmt.Fprintln(w, "  holds no code and no key copy")
					}
				})
			})
		}),
	}
	cmd.AddCommand(add, ls, show, rm, m.personSetCommand(), m.personRevokeCommand())
	return cmd
}

func (m *Main) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The audit log of every change and every reveal"}
	group(cmd)
	cmd.AddCommand(m.auditLsCommand())
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the audit log and name the first broken entry",
		Long: `Check the audit log: its hash chain, each entry's authentication (a MAC under a key
kept with the vault key, never in the database), and the separate record of where the
log ends. A changed, removed, reordered or rewritten entry is named, and so are entries
cut off the end.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				n, err := s.VerifyAuditLog(ctx)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"entries": n, "ok": true}, func(w io.Writer) {
					fmt.Fprintf(w, "The audit log is intact: %d entries, each chained to the one before and authenticated, ending where it was last written.\n", n)
				})
			})
		}),
	}, &cobra.Command{
		Use:   "adopt",
		Short: "Vouch for an audit log written before Latchkey authenticated its entries",
		Long: `Vouch for an audit log written by a Latchkey from before its audit entries were
authenticated: its hash chain is checked, then an authenticated entry records how many
entries came before it. Run it once, after upgrading, only if you know the database
predates authentication: 'audit verify' reports a log stripped of its authentication in
the same words, and adopting such a log would hide the tampering.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withService(cmd, func(ctx context.Context, s *latchkey.Service) error {
				n, err := s.AdoptAuditLog(ctx)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"adopted": n}, func(w io.Writer) {
					fmt.Fprintf(w, "Vouched for %d entries written before authentication; every entry from now on is authenticated.\n", n)
				})
			})
		}),
	})
	return cmd
}

// auditLsCommand reads the audit log as sentences, newest first.
func (m *Main) auditLsCommand() *cobra.Command {
	var f latchkey.AuditFilter
	var page latchkey.Page
	var lock, code, key, person int64
	cmd := &cobra.Command{
		Use:   "ls [--lock ID | --code ID | --key ID | --person ID] [--action A] [--actor NAME]",
		Short: "Read the audit log, newest first",
		Long: `Read the audit log as sentences, newest first: who did what to which record, and
when. Narrow it to one record (--lock, --code, --key, --person), to an action or a family
of actions (--action code.reveal, --action code), or to one actor (--actor ana).`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			for entity, id := range map[string]int64{"lock": lock, "code": code, "key": key, "person": person} {
				if id == 0 {
					continue
				}
				if f.Entity != "" {
					return usagef("name one record: --lock, --code, --key or --person")
				}
				f.Entity, f.EntityID = entity, id
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				entries, total, err := s.FindAuditEntries(ctx, f, page)
				if err != nil {
					return err
				}
				return m.emit(listView[*latchkey.AuditEntry]{entries, total}, func(w io.Writer) {
					for _, e := range entries {
						fmt.Fprintf(w, "%6d  %s  %s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04"), e.Sentence())
					}
					if len(entries) < total {
						fmt.Fprintf(w, "(%d of %d entries; --offset and --limit page through them)\n", len(entries), total)
					}
				})
			})
		}),
	}
	fl := cmd.Flags()
	fl.Int64Var(&lock, "lock", 0, "only this lock's entries")
	fl.Int64Var(&code, "code", 0, "only this code's entries")
	fl.Int64Var(&key, "key", 0, "only this key's entries")
	fl.Int64Var(&person, "person", 0, "only this person's entries")
	fl.StringVar(&f.Action, "action", "", "only this action (code.reveal) or family (code)")
	fl.StringVar(&f.Actor, "actor", "", "only what this actor did")
	pageFlags(cmd, &page)
	return cmd
}

func (m *Main) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring a PostgreSQL database's schema up to date (SQLite migrates itself)",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if m.dbURL == "" {
				return m.emit(map[string]any{"applied": []string{}}, func(w io.Writer) {
					fmt.Fprintln(w, "The embedded SQLite database migrates itself when opened; give --db postgres://... to migrate PostgreSQL.")
				})
			}
			applied, err := postgres.Migrate(cmd.Context(), m.dbURL)
			if err != nil {
				return err
			}
			queue, err := jobs.MigratePostgres(cmd.Context(), m.dbURL)
			if err != nil {
				return err
			}
			applied = append(applied, queue...)
			return m.emit(map[string]any{"applied": applied}, func(w io.Writer) {
				if len(applied) == 0 {
					fmt.Fprintln(w, "The schema is up to date.")
				}
				for _, a := range applied {
					fmt.Fprintf(w, "Applied %s.\n", a)
				}
			})
		}),
	}
}
