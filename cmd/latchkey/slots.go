package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/spf13/cobra"
)

// lockSlotCommands list and clear the codes on a lock in slots Latchkey does not own.
func (m *Main) lockSlotCommands() []*cobra.Command {
	slots := &cobra.Command{
		Use:   "slots ID",
		Short: "List the codes on a lock in slots Latchkey does not own (set at the lock), to adopt or clear",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				fs, err := s.FindForeignCodes(ctx, id)
				if err != nil {
					return err
				}
				if fs == nil {
					fs = []*latchkey.ForeignCode{}
				}
				return m.emit(fs, func(w io.Writer) { writeForeign(w, id, fs) })
			})
		}),
	}
	var slot int
	clear := &cobra.Command{
		Use:   "clear-slot ID --slot N",
		Short: "Have the sync engine empty a slot holding a code Latchkey does not own",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("lock", args[0])
			if err != nil {
				return err
			}
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				f, err := s.ClearForeignSlot(ctx, id, slot)
				if err != nil {
					return err
				}
				return m.emit(f, func(w io.Writer) {
					fmt.Fprintf(w, "Slot %d of lock %d is emptied by the sync engine; it stays listed (latchkey lock slots %d) until the lock is seen without it.\n", slot, id, id)
				})
			})
		}),
	}
	clear.Flags().IntVar(&slot, "slot", 0, "the slot to empty (required)")
	_ = clear.MarkFlagRequired("slot")
	return []*cobra.Command{slots, clear}
}

func writeForeign(w io.Writer, lockID int64, fs []*latchkey.ForeignCode) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "Lock %d holds no code Latchkey does not own.\n", lockID)
		return
	}
	table(w, "SLOT\tSEEN\tSTATE", func(tw io.Writer) {
		for _, f := range fs {
			state := "to adopt or clear"
			if f.Clearing {
				state = "being cleared"
				if f.Reason != "" {
					state += ": " + f.Reason
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", f.Slot, f.SeenAt.Format(time.DateTime), state)
		}
	})
	fmt.Fprintf(w, "Adopt one: latchkey code adopt --lock %d --slot N --person ID --label TEXT; or clear it: latchkey lock clear-slot %d --slot N\n", lockID, lockID)
}

// codeAdoptCommand makes the code in a slot Latchkey does not own a person's code.
func (m *Main) codeAdoptCommand() *cobra.Command {
	var a latchkey.Adoption
	cmd := &cobra.Command{
		Use:   "adopt --lock ID --slot N --person ID --label TEXT [--pin DIGITS]",
		Short: "Make a code set at the lock, in a slot Latchkey does not own, a person's code",
		Long: `Make a code set at the lock itself (listed by latchkey lock slots) a person's code, in
that slot. Its PIN is read from the lock into the vault when the lock's hub tells it; for
a lock whose hub does not, give it with --pin, and the code stays unconfirmed until you
check it at the door (latchkey code confirm).`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
				c, err := s.AdoptForeignCode(ctx, a)
				if err != nil {
					return err
				}
				return m.emit(c, func(w io.Writer) {
					fmt.Fprintf(w, "Slot %d of lock %d is now code %d (%s); latchkey code show %d says where it stands.\n", a.Slot, a.LockID, c.ID, c.Label, c.ID)
				})
			})
		}),
	}
	cmd.Flags().Int64Var(&a.LockID, "lock", 0, "the lock (required)")
	cmd.Flags().IntVar(&a.Slot, "slot", 0, "the slot (required)")
	cmd.Flags().Int64Var(&a.PersonID, "person", 0, "whose code it becomes (required)")
	cmd.Flags().StringVar(&a.Label, "label", "", "its label (required)")
	cmd.Flags().StringVar(&a.PIN, "pin", "", "its digits, only for a lock whose hub cannot tell them")
	for _, f := range []string{"lock", "slot", "person", "label"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
