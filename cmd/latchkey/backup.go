package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

func (m *Main) exportCommand() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export every record (no codes' digits, no audit log) as JSON, or the locks as CSV",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if format != "json" && format != "csv" {
				return latchkey.Errorf(latchkey.EINVALID, "--format is json or csv, not %q.", format)
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				r, err := s.Export(ctx)
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				if format == "json" {
					enc := json.NewEncoder(&buf)
					enc.SetIndent("", "  ")
					err = enc.Encode(r)
				} else {
					err = writeLocksCSV(&buf, r)
				}
				if err != nil {
					return err
				}
				return m.writeOut(out, buf.Bytes(), "records")
			})
		}),
	}
	cmd.Flags().StringVar(&format, "format", "json", "json (everything) or csv (one row a lock)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

// writeOut writes data to a file (mode 0600) or standard output.
func (m *Main) writeOut(path string, data []byte, what string) error {
	if path == "" || path == "-" {
		_, err := m.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return latchkey.Errorf(latchkey.EINVALID, "Cannot write the %s to %s: %v.", what, path, err)
	}
	// WriteFile keeps the mode of a file that was there: a backup or sheet written over a
	// file anyone could read would stay readable.
	if err := os.Chmod(path, 0o600); err != nil {
		return latchkey.Errorf(latchkey.EINVALID, "Cannot make %s readable by you only: %v.", path, err)
	}
	if m.json {
		return m.emit(map[string]any{"file": path, "bytes": len(data)}, nil)
	}
	fmt.Fprintf(m.Stderr, "Wrote the %s to %s (%d bytes).\n", what, path, len(data))
	return nil
}

// writeLocksCSV writes one row a lock, with its site, door, key and codes.
func writeLocksCSV(w io.Writer, r *latchkey.Records) error {
	sites, doors, keys := map[int64]string{}, map[int64]*latchkey.Door{}, map[int64]string{}
	for _, s := range r.Sites {
		sites[s.ID] = s.Name
	}
	for _, d := range r.Doors {
		doors[d.ID] = d
	}
	for _, k := range r.Keys {
		keys[k.ID] = k.Label
	}
	codes := map[int64]int{}
	pending := map[int64]int{}
	for _, g := range r.Grants {
		switch g.Status {
		case latchkey.GrantSet:
			codes[g.LockID]++
		case latchkey.GrantPending, latchkey.GrantSetting, latchkey.GrantUnconfirmed, latchkey.GrantRemoving:
			pending[g.LockID]++
		}
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	cw := &safeCSV{csv.NewWriter(w)}
	cw.Write([]string{"lock_id", "site", "door", "lock", "model", "status", "serial_number", "purchased", "installed", "key", "codes_set", "codes_pending", "connection"})
	for _, l := range r.Locks {
		d := doors[l.DoorID]
		site, door := "", ""
		if d != nil {
			site, door = sites[d.SiteID], d.Name
		}
		conn := ""
		if l.Connection.Driver != "" {
			conn = string(l.Connection.Driver) + ":" + l.Connection.Address
		}
		cw.Write([]string{strconv.FormatInt(l.ID, 10), site, door, l.Name, l.ModelID, string(l.Status), l.SerialNumber,
			date(l.PurchasedAt), date(l.InstalledAt), keys[l.KeyID], strconv.Itoa(codes[l.ID]), strconv.Itoa(pending[l.ID]), conn})
	}
	cw.Flush()
	return cw.Error()
}

// safeCSV writes rows for a spreadsheet: a cell that starts like a formula (=, +, -, @,
// a tab or a carriage return) is written with a leading apostrophe, so that a name typed
// into Latchkey is shown as text, never run.
type safeCSV struct{ *csv.Writer }

func (w *safeCSV) Write(row []string) error {
	for i, cell := range row {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			row[i] = "'" + cell
		}
	}
	return w.Writer.Write(row)
}

func (m *Main) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Back up every record, the sealed codes and the audit log to FILE",
		Long: `Back up every record, the codes (still encrypted) and the audit log to FILE, in a
format both the embedded database and PostgreSQL restore. The vault key is not in the
backup: keep a copy of the data directory's vault.key somewhere safe and separate, since
the codes in a backup open only with it.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if err := m.requireRecords(); err != nil {
				return err
			}
			return m.withService(cmd, func(ctx context.Context, svc *latchkey.Service) error {
				b, err := svc.Backup(ctx)
				if err != nil {
					return err
				}
				data, err := json.Marshal(b)
				if err != nil {
					return err
				}
				if err := m.writeOut(args[0], data, "backup"); err != nil {
					return err
				}
				return m.emit(map[string]any{"file": args[0], "locks": len(b.Records.Locks), "codes": len(b.Records.Codes), "audit_entries": len(b.Audit)}, func(w io.Writer) {
					fmt.Fprintf(w, "Backed up %d locks, %d codes and %d audit entries. Keep the vault key (vault.key in the data directory) safe and apart from the backup.\n",
						len(b.Records.Locks), len(b.Records.Codes), len(b.Audit))
				})
			})
		}),
	}
}

func (m *Main) restoreCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an empty data directory or database",
		Long: `Restore a backup into an empty data directory (--data) or database (--db). Put the
vault key the backup was made with into the data directory first (or set
LATCHKEY_VAULT_KEY); every code is checked to open with it before anything is written.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "Cannot read the backup %s: %v.", args[0], err)
			}
			b, err := latchkey.ParseBackup(data)
			if err != nil {
				return err
			}
			return m.withService(cmd, func(ctx context.Context, svc *latchkey.Service) error {
				if err := svc.Restore(ctx, b); err != nil {
					return err
				}
				return m.emit(map[string]any{"restored": true, "locks": len(b.Records.Locks), "codes": len(b.Records.Codes)}, func(w io.Writer) {
					fmt.Fprintf(w, "Restored %d locks, %d codes and %d audit entries from %s.\n", len(b.Records.Locks), len(b.Records.Codes), len(b.Audit), args[0])
				})
			})
		}),
	}
}
