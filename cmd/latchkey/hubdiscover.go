package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

// The discovery commands: locks already paired with a hub are listed with the model
// their ids identify, and added to a door; their slots are then surveyed, and the codes
// found listed as codes Latchkey does not own (latchkey lock slots), never written over.
// The hubs run in the server, so these commands ask it (--server).

// withDiscovery runs f with the discovery service where withRecords would find the
// records.
func (m *Main) withDiscovery(cmd *cobra.Command, f func(ctx context.Context, s latchkey.Discovery) error) error {
	return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
		d, ok := s.(latchkey.Discovery)
		if !ok {
			return latchkey.Errorf(latchkey.EINTERNAL, "These records do not discover locks.")
		}
		return f(ctx, d)
	})
}

// discoveryCommands are 'hub discovered', 'hub adopt' and 'hub survey'.
func (m *Main) discoveryCommands() []*cobra.Command {
	discovered := &cobra.Command{
		Use: "discovered", Short: "List the locks the hubs know that no lock record is connected to, with their identified model", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withDiscovery(cmd, func(ctx context.Context, s latchkey.Discovery) error {
				found, err := s.DiscoveredLocks(ctx)
				if err != nil {
					return err
				}
				return m.emit(found, func(w io.Writer) { m.printDiscovered(w, found) })
			})
		}),
	}

	var req latchkey.DiscoveredAdoption
	adopt := &cobra.Command{
		Use:   "adopt DRIVER ADDRESS --door ID --name NAME [--model M]",
		Short: "Add a discovered lock to a door and read its slots: codes found are listed, never written over",
		Long: `Record a lock a hub knows (as 'latchkey hub discovered' lists it) on a door, connected
through the hub, with the model its ids identify (or --model, when they do not). Every slot
is then read: each code found is listed as a code Latchkey does not own ('latchkey lock
slots ID'), to adopt as a person's code or clear; Latchkey never writes over it, and puts
no code on the lock until every slot is read. A sleepy lock that stops answering is
surveyed from where it stopped with 'latchkey hub survey LOCK'.`,
		Args: cobra.ExactArgs(2),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			req.Driver, req.Address = latchkey.Driver(args[0]), args[1]
			if req.Driver != latchkey.DriverZWaveJS && req.Driver != latchkey.DriverZigbee2MQTT {
				return usagef("the hub's driver is zwavejs or zigbee2mqtt, not %q", args[0])
			}
			if req.DoorID < 1 {
				return usagef("give the door the lock is on: --door ID ('latchkey door ls' lists them)")
			}
			if strings.TrimSpace(req.Name) == "" {
				return usagef("name the lock: --name NAME, such as \"Front deadbolt\"")
			}
			return m.withDiscovery(cmd, func(ctx context.Context, s latchkey.Discovery) error {
				l, err := s.AdoptDiscovered(ctx, req)
				if err != nil {
					return err
				}
				return m.emit(l, func(w io.Writer) {
					fmt.Fprintf(w, "Added lock %d (%s), model %s, connected through %s at %s.\n", l.ID, l.Name, l.ModelID, l.Connection.Driver, l.Connection.Address)
					printSurvey(w, l)
				})
			})
		}),
	}
	f := adopt.Flags()
	f.Int64Var(&req.DoorID, "door", 0, "the door the lock is on")
	f.StringVar(&req.Name, "name", "", "the lock's name")
	f.StringVar(&req.ModelID, "model", "", "the catalog model, when its ids do not name one ('latchkey models ls')")

	survey := &cobra.Command{
		Use: "survey LOCK", Short: "Read the slots of an adopted lock its survey has not read yet (after a sleepy lock stopped answering)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return latchkey.Errorf(latchkey.EINVALID, "%q is not a lock id; ids are whole numbers, as 'latchkey lock ls' lists them.", args[0])
			}
			return m.withDiscovery(cmd, func(ctx context.Context, s latchkey.Discovery) error {
				l, err := s.SurveyLock(ctx, id)
				if err != nil {
					return err
				}
				return m.emit(l, func(w io.Writer) { printSurvey(w, l) })
			})
		}),
	}
	return []*cobra.Command{discovered, adopt, survey}
}

// printDiscovered lists the discovered locks hub by hub.
func (m *Main) printDiscovered(w io.Writer, found []latchkey.HubDiscovery) {
	if len(found) == 0 {
		fmt.Fprintln(w, "No hub runs: add one with latchkey hub add.")
		return
	}
	offered := false
	for _, hd := range found {
		switch {
		case hd.Error != "":
			fmt.Fprintf(w, "%s: cannot ask the hub: %s\n", hd.Driver.Title(), hd.Error)
			continue
		case len(hd.Locks) == 0:
			fmt.Fprintf(w, "%s: no lock to add; every lock it knows is recorded.\n", hd.Driver.Title())
			continue
		}
		offered = true
		fmt.Fprintf(w, "%s:\n", hd.Driver.Title())
		table(w, "ADDRESS\tNAME\tMODEL\tONLINE", func(tw io.Writer) {
			for _, dl := range hd.Locks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", dl.Device.Address, dl.Device.Name, m.discoveredModel(dl), map[bool]string{true: "yes", false: "no"}[dl.Device.Online])
			}
		})
	}
	if offered {
		fmt.Fprintln(w, "Add one with: latchkey hub adopt DRIVER ADDRESS --door ID --name NAME [--model M]")
	}
}

// discoveredModel names a discovered lock's model, or says to choose one.
func (m *Main) discoveredModel(dl latchkey.DiscoveredLock) string {
	switch {
	case dl.ModelID != "":
		if md, err := m.Catalog.Model(dl.ModelID); err == nil {
			return md.Name + " (" + dl.ModelID + ")"
		}
		return dl.ModelID
	case len(dl.Candidates) > 0:
		return "unknown model: choose " + strings.Join(dl.Candidates, " or ")
	}
	return "unknown model: choose (--model)"
}

// printSurvey says where an adopted lock's survey stands.
func printSurvey(w io.Writer, l *latchkey.Lock) {
	sv := l.Survey
	switch sv.State {
	case latchkey.SurveyDone:
		fmt.Fprintf(w, "Every slot was read: %d code(s) found on it, listed by latchkey lock slots %d to adopt or clear; Latchkey never writes over them.\n", sv.Found, l.ID)
	case latchkey.SurveyPending:
		// The reason says what to do: read the rest (a survey read in parts), or wake the
		// lock first (one that stopped answering).
		reason := sv.Reason
		if reason == "" {
			reason = fmt.Sprintf("read them with latchkey hub survey %d.", l.ID)
		}
		fmt.Fprintf(w, "Its slots are not all read (%d so far, %d code(s) found): %s\nNo code is put on it until they are.\n", sv.Read, sv.Found, reason)
	}
}
