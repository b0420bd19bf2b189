package main

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/report"
)

// lockRecordCommands are the lock verbs for its service log, receipts and record sheet.
func (m *Main) lockRecordCommands() []*cobra.Command {
	var entry latchkey.ServiceEntry
	var kind string
	logCmd := &cobra.Command{
		Use: "log ID NOTE", Short: "Add a line to a lock's service log", Args: cobra.ExactArgs(2),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			entry.LockID, entry.Note, entry.Kind = id, args[1], latchkey.ServiceKind(kind)
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				if err := s.AddServiceEntry(ctx, &entry); err != nil {
					return err
				}
				return m.emit(entry, func(w io.Writer) { fmt.Fprintf(w, "Logged on lock %d: %s.\n", id, entry.Note) })
			})
		}),
	}
	logCmd.Flags().StringVar(&kind, "kind", "note", "battery, rekey, codes, reset, repair, inspection or note")
	logCmd.Flags().BoolVar(&entry.WarrantyRelevant, "deviates", false, "the work deviated from the maker's instructions (warranty-relevant)")

	receipt := &cobra.Command{Use: "receipt", Short: "Files kept with a lock's records: receipts, invoices, photos (10 MiB each)"}
	group(receipt)
	receipt.AddCommand(&cobra.Command{
		Use: "add LOCK FILE", Short: "Keep a file with a lock's records", Args: cobra.ExactArgs(2),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			fi, err := os.Stat(args[1])
			if err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "Cannot read %s: %v.", args[1], err)
			}
			if fi.Size() > latchkey.MaxReceiptBytes {
				return latchkey.Errorf(latchkey.EINVALID, "%s is %.1f MiB; Latchkey keeps files up to 10 MiB.", args[1], float64(fi.Size())/(1<<20))
			}
			data, err := os.ReadFile(args[1])
			if err != nil {
				return latchkey.Errorf(latchkey.EINVALID, "Cannot read %s: %v.", args[1], err)
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				r, err := s.AddReceipt(ctx, id, args[1], data)
				if err != nil {
					return err
				}
				r.Data = nil
				return m.emit(r, func(w io.Writer) {
					fmt.Fprintf(w, "Kept %s (%s, %d bytes) as receipt %d of lock %d.\n", r.Name, r.ContentType, r.Size, r.ID, id)
				})
			})
		}),
	}, &cobra.Command{
		Use: "ls LOCK", Short: "List a lock's files", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				rs, err := s.FindReceipts(ctx, id, false)
				if err != nil {
					return err
				}
				return m.emit(rs, func(w io.Writer) {
					table(w, "ID\tNAME\tTYPE\tBYTES\tADDED", func(tw io.Writer) {
						for _, r := range rs {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", r.ID, r.Name, r.ContentType, r.Size, r.AddedAt.Format(time.DateTime))
						}
					})
				})
			})
		}),
	})
	var getOut string
	get := &cobra.Command{
		Use: "get LOCK RECEIPT -o FILE", Short: "Write a kept file out", Args: cobra.ExactArgs(2),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			rid, err := idArg("receipt", args[1])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				rs, err := s.FindReceipts(ctx, id, true)
				if err != nil {
					return err
				}
				for _, r := range rs {
					if r.ID == rid {
						return m.writeOut(getOut, r.Data, "file")
					}
				}
				return latchkey.Errorf(latchkey.ENOTFOUND, "Lock %d has no receipt %d; 'latchkey lock receipt ls %d' lists them.", id, rid, id)
			})
		}),
	}
	get.Flags().StringVarP(&getOut, "output", "o", "", "the file to write (default: standard output)")
	receipt.AddCommand(get)

	var sheetOut string
	sheet := &cobra.Command{
		Use: "sheet ID [-o FILE]", Short: "Write a lock's printable record sheet (HTML)", Args: cobra.ExactArgs(1),
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
				// The sheet prints the key to scale: a reveal, recorded; without the
				// permission (an installer's token), the sheet goes without the cuts.
				if rec.Key != nil {
					if rec.Key.Bitting, err = s.RevealBitting(ctx, rec.Key.ID); err != nil && latchkey.ErrorCode(err) != latchkey.EFORBIDDEN {
						return err
					}
				}
				var buf bytes.Buffer
				if err := report.WriteSheet(&buf, m.sheet(rec)); err != nil {
					return err
				}
				return m.writeOut(sheetOut, buf.Bytes(), "record sheet")
			})
		}),
	}
	sheet.Flags().StringVarP(&sheetOut, "output", "o", "", "the file to write (default: standard output)")
	return []*cobra.Command{logCmd, receipt, sheet}
}

// sheet builds a lock's record sheet from its record, the catalog and the key rules.
func (m *Main) sheet(rec *latchkey.LockRecord) *report.Sheet {
	sh := &report.Sheet{Lock: rec.Lock, Door: rec.Door, Site: rec.Site, Key: rec.Key, Holders: map[int64]string{},
		Service: rec.Service, Receipts: rec.Receipts, Generated: time.Now()}
	for id, p := range rec.People {
		sh.Holders[id] = p.Name
	}
	if md, err := m.Catalog.Model(rec.Lock.ModelID); err == nil {
		sh.ModelName = md.Name
		rules := md.Rules()
		if rules.Capacity > 0 {
			sh.ModelFacts = append(sh.ModelFacts, report.Fact{Label: "Codes it holds", Value: fmt.Sprintf("%d, of %d to %d digits", rules.Capacity, rules.MinLen, rules.MaxLen)})
		}
		if r, ok := md.Reset.Get(""); r != "" {
			v := r
			if !ok {
				v += " (unconfirmed)"
			}
			if seq := m.Catalog.Sequences[r]; seq != nil {
				v += ": " + seq.Name
			}
			sh.ModelFacts = append(sh.ModelFacts, report.Fact{Label: "Factory reset", Value: v})
		}
		w := m.Catalog.WarrantyStatus(md, rec.Lock.PurchasedAt, time.Now())
		sh.Warranty = report.Warranty{State: w.State, Reason: w.Reason, Proof: w.Proof, Contact: w.Contact, Exclusions: w.Exclusions}
	} else {
		sh.Warranty = report.Warranty{State: "unknown", Reason: "The lock's model is not identified."}
	}
	for _, e := range rec.Service {
		if e.WarrantyRelevant {
			sh.Warranty.Deviations++
		}
	}
	if rec.Key != nil && rec.Key.Bitting != "" {
		var svg bytes.Buffer
		if err := keying.KW1.Draw(&svg, keying.Bitting(rec.Key.Bitting)); err == nil {
			// The drawing is our own SVG, not outside input.
			sh.KeySVG = template.HTML(strings.TrimPrefix(svg.String(), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"))
		}
	}
	var zone *time.Location // a window's dates read in the site's time zone
	if rec.Site != nil {
		zone, _ = time.LoadLocation(rec.Site.TimeZone)
	}
	for _, g := range rec.Grants {
		c := rec.Codes[g.CodeID]
		if c == nil {
			continue
		}
		status := string(g.Status)
		if g.Status == latchkey.GrantRemoving {
			status = "revocation pending"
		}
		valid := c.Validity(zone)
		person := ""
		if p := rec.People[c.PersonID]; p != nil {
			person = p.Name
		}
		sh.Codes = append(sh.Codes, report.CodeLine{Label: c.Label, Person: person, Slot: g.Slot, Status: status, Valid: valid})
	}
	return sh
}
