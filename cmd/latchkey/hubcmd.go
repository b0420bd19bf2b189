package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

// The hub commands: owners add and remove the Z-Wave JS server and the Zigbee2MQTT
// installation the server reaches locks through; anyone who reads records lists them
// (docs/hub-config.md). On a data directory they change the records a server started
// on it reads; against a server (--server), the server picks the change up at once.

// withHubs runs f with the hub service where withRecords would find the records.
func (m *Main) withHubs(cmd *cobra.Command, f func(ctx context.Context, s latchkey.HubService) error) error {
	return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
		hubs, ok := s.(latchkey.HubService)
		if !ok {
			return latchkey.Errorf(latchkey.EINTERNAL, "These records do not keep hubs.")
		}
		return f(ctx, hubs)
	})
}

// hubStatuser is a server that says how its hub drivers are doing (the API client).
type hubStatuser interface {
	HubStatuses(ctx context.Context) ([]latchkey.HubStatus, error)
}

// hubView is a hub as 'hub ls' shows it: with its driver's health when a server says.
type hubView struct {
	*latchkey.Hub
	Status *latchkey.HubStatus `json:"status,omitempty"`
}

func (m *Main) hubCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "hub", Short: "Hubs: the Z-Wave JS server and Zigbee2MQTT installation locks are reached through (owners)"}
	group(cmd)
	var in latchkey.NewHub
	var passwordStdin bool
	add := &cobra.Command{
		Use:   "add zwavejs|zigbee2mqtt URL [--name N] [--base-topic T] [--username U --password-stdin]",
		Short: "Add a hub: one per driver; its password or token is sealed and never shown",
		Long: `Add the hub a driver reaches locks through: zwavejs for a zwave-js-server (zwave-js-ui,
Home Assistant's Z-Wave JS) at ws://host:3000, zigbee2mqtt for a Zigbee2MQTT installation
through its MQTT broker at mqtt://host:1883 (mqtts://, tcp://, ssl://, ws:// and wss://
too). Keep user names and passwords out of the URL: --username names the MQTT user, and
--password-stdin reads the password (or a zwave-js-server token) from standard input; it
is sealed by the vault and never shown again. A lock's connection names only its driver,
so Latchkey keeps one hub per driver: remove the old one to replace it.`,
		Args: cobra.ExactArgs(2),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			in.Driver, in.URL = latchkey.Driver(args[0]), args[1]
			if in.Driver != latchkey.DriverZWaveJS && in.Driver != latchkey.DriverZigbee2MQTT {
				return usagef("the hub's driver is zwavejs or zigbee2mqtt, not %q", args[0])
			}
			if passwordStdin {
				secret, err := m.readHubSecret()
				if err != nil {
					return err
				}
				in.Secret = secret
			}
			return m.withHubs(cmd, func(ctx context.Context, s latchkey.HubService) error {
				h, err := s.CreateHub(ctx, in)
				if err != nil {
					return err
				}
				return m.emit(h, func(w io.Writer) {
					fmt.Fprintf(w, "Added hub %d: %s at %s.\n", h.ID, h.Name, h.URL)
					if h.HasSecret {
						fmt.Fprintln(w, "Its password is sealed; it is never shown again.")
					}
					fmt.Fprintf(w, "A server running on these records starts its driver (at once through --server, within 30 s otherwise).\nConnect locks with: latchkey lock add --driver %s --address ADDRESS ...\n", h.Driver)
				})
			})
		}),
	}
	f := add.Flags()
	f.StringVar(&in.Name, "name", "", "a name for people (default: the driver's, Z-Wave JS or Zigbee2MQTT)")
	f.StringVar(&in.BaseTopic, "base-topic", "", "Zigbee2MQTT's mqtt.base_topic (default zigbee2mqtt)")
	f.StringVar(&in.Username, "username", "", "the MQTT broker's user name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the MQTT password or the zwave-js-server token from standard input")

	ls := &cobra.Command{
		Use: "ls", Short: "List hubs (never their secrets), with their health when --server names a server", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withHubs(cmd, func(ctx context.Context, s latchkey.HubService) error {
				hubs, err := s.FindHubs(ctx)
				if err != nil {
					return err
				}
				statuses := map[latchkey.Driver]latchkey.HubStatus{}
				remote, isRemote := s.(hubStatuser)
				if isRemote {
					sts, err := remote.HubStatuses(ctx)
					if err != nil {
						return err
					}
					for _, st := range sts {
						statuses[st.Driver] = st
					}
				}
				views := make([]hubView, len(hubs))
				for i, h := range hubs {
					views[i].Hub = h
					if st, ok := statuses[h.Driver]; ok && st.HubID == h.ID {
						views[i].Status = &st
					}
				}
				return m.emit(listView[hubView]{views, len(views)}, func(w io.Writer) {
					if len(hubs) == 0 {
						fmt.Fprintln(w, "No hub yet: latchkey hub add zwavejs ws://host:3000, or latchkey hub add zigbee2mqtt mqtt://host:1883.")
						return
					}
					table(w, "ID\tDRIVER\tNAME\tURL\tLOGIN\tHEALTH", func(tw io.Writer) {
						for _, v := range views {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Driver, v.Name, hubWhere(v.Hub), hubLogin(v.Hub), healthText(v.Status, isRemote))
						}
					})
				})
			})
		}),
	}

	rm := &cobra.Command{
		Use: "rm ID", Short: "Remove a hub (refused while locks are connected through it)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return latchkey.Errorf(latchkey.EINVALID, "%q is not a hub id; ids are whole numbers, as 'latchkey hub ls' lists them.", args[0])
			}
			return m.withHubs(cmd, func(ctx context.Context, s latchkey.HubService) error {
				if err := s.DeleteHub(ctx, id); err != nil {
					return err
				}
				return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed hub %d.\n", id) })
			})
		}),
	}
	cmd.AddCommand(add, ls, rm)
	cmd.AddCommand(m.discoveryCommands()...)
	return cmd
}

// hubWhere is a hub's URL, with the base topic for Zigbee2MQTT.
func hubWhere(h *latchkey.Hub) string {
	if h.BaseTopic != "" {
		return h.URL + " (topic " + h.BaseTopic + ")"
	}
	return h.URL
}

// hubLogin says how Latchkey logs in to the hub, never with what secret.
func hubLogin(h *latchkey.Hub) string {
	switch {
	case h.Username != "" && h.HasSecret:
		return h.Username + " (password sealed)"
	case h.Username != "":
		return h.Username
	case h.HasSecret:
		return "token sealed"
	}
	return "none"
}

// healthText says how a hub's driver is doing, as far as the server says.
func healthText(st *latchkey.HubStatus, remote bool) string {
	switch {
	case !remote:
		return "ask the server (--server)"
	case st == nil || !st.Running:
		if st != nil && st.LastError != "" {
			return "not running: " + st.LastError
		}
		return "not running"
	case st.Connected && st.LastMessageAt != nil:
		return "connected, last heard " + st.LastMessageAt.Local().Format(time.DateTime)
	case st.Connected:
		return "connected"
	case st.LastError != "":
		return "not connected: " + st.LastError
	}
	return "not connected yet"
}

// readHubSecret reads a hub's password or token from standard input: one line.
func (m *Main) readHubSecret() (string, error) {
	if m.Interactive {
		fmt.Fprint(m.Stderr, "Password or token: ")
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if err != nil && line == "" || strings.TrimSpace(line) == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "Type the hub's password or token on standard input, then Enter (or leave out --password-stdin when it needs none).")
	}
	return line, nil
}
