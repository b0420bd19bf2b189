package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/z2msim"
)

func (m *Main) simZ2MCommand() *cobra.Command {
	var broker, base string
	var locks int
	var models []string
	var speed float64
	var exposePIN bool
	cmd := &cobra.Command{
		Use:   "z2m --broker URL",
		Short: "Publish a fleet of twins as Zigbee2MQTT devices on an MQTT broker",
		Long: `Publish twins of Kwikset Zigbee locks on an MQTT broker as Zigbee2MQTT would: the
bridge's device list and state, each lock's state, availability and events, and answers
to set and get on pin_code and state as zigbee-herdsman-converters' Kwikset definitions
give them. Point Latchkey's zigbee2mqtt driver (or any Zigbee2MQTT client) at the same
broker and base topic. The locks are named lock-1, lock-2...; --model gives their models
in turn (910, 912, 914 or 916). Every lock's Mastercode is ` + z2msim.Mastercode + `. Ctrl-C stops the fleet
and publishes the bridge offline.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if broker == "" {
				return usagef("--broker is required, e.g. --broker mqtt://127.0.0.1:1883")
			}
			if locks < 1 || locks > 1000 {
				return usagef("--locks is %d; give 1 to 1000", locks)
			}
			if speed <= 0 || speed > 1000 {
				return usagef("--speed is %g; give a number above 0, up to 1000", speed)
			}
			if len(models) == 0 {
				models = []string{"914"}
			}
			specs := make([]z2msim.LockSpec, locks)
			for i := range specs {
				specs[i] = z2msim.LockSpec{Name: fmt.Sprintf("lock-%d", i+1), Model: strings.TrimSpace(models[i%len(models)])}
			}
			fleet, err := z2msim.New(z2msim.Config{Broker: broker, BaseTopic: base, Locks: specs, Seed: 1, Speed: speed, ExposePIN: exposePIN})
			if err != nil {
				return err
			}
			return m.runFleet(cmd.Context(), fleet, broker, base)
		}),
	}
	cmd.Flags().StringVar(&broker, "broker", "", "the MQTT broker's URL (mqtt://host:1883)")
	cmd.Flags().StringVar(&base, "base", "zigbee2mqtt", "Zigbee2MQTT's base topic")
	cmd.Flags().IntVar(&locks, "locks", 3, "how many locks")
	cmd.Flags().StringSliceVar(&models, "model", nil, "the locks' catalog models, in turn (default 914)")
	cmd.Flags().Float64Var(&speed, "speed", 1, "virtual seconds per real second")
	cmd.Flags().BoolVar(&exposePIN, "expose-pin", true, "report PINs back in users, as the expose_pin device option does")
	return cmd
}

// runFleet publishes the fleet until ctx ends.
func (m *Main) runFleet(ctx context.Context, fleet *z2msim.Fleet, broker, base string) error {
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := fleet.Start(start); err != nil {
		fleet.Close()
		return err
	}
	fmt.Fprintf(m.Stdout, "Publishing %d Kwikset Zigbee twins as Zigbee2MQTT on %s, base topic %q:\n", len(fleet.Names()), broker, base)
	for _, name := range fleet.Names() {
		fmt.Fprintf(m.Stdout, "  %-10s %s\n", name, fleet.IEEE(name))
	}
	fmt.Fprintln(m.Stdout, "Ctrl-C stops them.")
	<-ctx.Done()
	fleet.Close()
	fmt.Fprintln(m.Stdout, "Stopped; the bridge is published offline.")
	return nil
}
