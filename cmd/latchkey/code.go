package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

func (m *Main) codeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "code",
		Short: "Keypad codes: check and generate under each model's rules; add, confirm, revoke, reveal",
	}
	group(cmd)
	cmd.AddCommand(m.codeCheckCommand(), m.codeGenerateCommand())
	cmd.AddCommand(m.codeInventoryCommands()...)
	return cmd
}

// readCode returns the code argument, or reads it from standard input when it is "-", so
// that a real code need not go into the shell history.
func (m *Main) readCode(arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "No code on standard input; type it and press Enter, or pipe it in.")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (m *Main) codeCheckCommand() *cobra.Command {
	var model string
	var lockID int64
	var existing []string
	cmd := &cobra.Command{
		Use:   "check (--model MODEL [--existing CODE]... | --lock ID) CODE",
		Short: "Check a code against a model's rules, or against a recorded lock and the codes on it",
		Long: `Check a code against the model's rules (length, capacity, duplicates, same-button
collisions on five-button keypads, unique first digits, forbidden prefixes) and the lock's
other codes. Give CODE as - to type it on standard input instead of the command line.
The answer never repeats the digits of any code.

With --model, the lock's other codes are the ones given with --existing. With --lock, they
are the codes recorded on that lock (pending, set, or revocation pending), compared where
they are kept, sealed: the answer says whether the code collides, and with which code
(by number and label) only to someone who may reveal codes. For anyone else a collision
is recorded in the audit log and counts against a small allowance. Exit status 3 when
the code is refused, with --model as with --lock: the model's rules or the lock cannot
take it.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			onLock := cmd.Flags().Changed("lock")
			switch {
			case onLock && cmd.Flags().Changed("model"):
				return usagef("give --model or --lock, not both: --lock checks under the recorded lock's own model")
			case onLock && len(existing) > 0:
				return usagef("--existing goes with --model; with --lock the codes are those recorded on the lock")
			case !onLock && model == "":
				return usagef("say what to check the code against: --lock ID (a recorded lock and its codes) or --model MODEL (with --existing CODE for each code on the lock)")
			}
			code, err := m.readCode(args[0])
			if err != nil {
				return err
			}
			if onLock {
				return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
					v, err := s.CheckCode(ctx, lockID, code)
					if err != nil {
						return err
					}
					if !v.OK {
						return latchkey.Errorf(latchkey.EUNSAFE, "%s", v.Message)
					}
					return m.emit(v, func(w io.Writer) { fmt.Fprintln(w, v.Message) })
				})
			}
			md, err := m.Catalog.Model(model)
			if err != nil {
				return err
			}
			check := m.Catalog.CheckCode(md, code, existing)
			if err := check.Err(); err != nil {
				// Refused as with --lock: the same exit status whichever way it was checked.
				return latchkey.Errorf(latchkey.EUNSAFE, "%s", latchkey.ErrorMessage(err))
			}
			return m.emit(check, func(w io.Writer) {
				fmt.Fprintf(w, "Accepted on the %s.\n", md.Name)
				writeNotes(w, check.Notes)
			})
		}),
	}
	cmd.Flags().StringVar(&model, "model", "", "catalog model of the lock")
	cmd.Flags().Int64Var(&lockID, "lock", 0, "a recorded lock: its model and the codes on it")
	cmd.Flags().StringArrayVar(&existing, "existing", nil, "with --model: a code already on the lock (repeat the flag for each)")
	return cmd
}

func writeNotes(w io.Writer, notes []catalog.Finding) {
	for _, n := range notes {
		fmt.Fprintf(w, "  Note: %s\n", n.Message)
	}
}

type generateCodeView struct {
	Model string            `json:"model"`
	Code  string            `json:"code"`
	Notes []catalog.Finding `json:"notes"`
}

func (m *Main) codeGenerateCommand() *cobra.Command {
	var model string
	var length int
	var existing []string
	cmd := &cobra.Command{
		Use:   "generate --model MODEL",
		Short: "Generate a random code the model accepts beside the lock's other codes",
		Long: `Generate a random code with cryptographic randomness that the model accepts beside
the codes already on the lock, and that is not easy to guess. Without --length, six digits
where the model allows it.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			md, err := m.Catalog.Model(model)
			if err != nil {
				return err
			}
			rules := md.Rules()
			code, err := rules.GenerateCode(length, existing, m.Random)
			if err != nil {
				return err
			}
			notes := rules.Check(code, existing).Notes
			view := generateCodeView{Model: md.ID, Code: code, Notes: notes}
			return m.emit(view, func(w io.Writer) {
				fmt.Fprintln(w, code)
				writeNotes(w, notes)
			})
		}),
	}
	cmd.Flags().StringVar(&model, "model", "", "catalog model of the lock (required)")
	cmd.Flags().IntVar(&length, "length", 0, "number of digits (default: 6 where the model allows it)")
	cmd.Flags().StringArrayVar(&existing, "existing", nil, "a code already on the lock (repeat the flag for each)")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}
