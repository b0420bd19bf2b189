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

// The webhook commands: owners subscribe URLs to events, read the delivery log and send
// a delivery again, on the local data directory or against a server (docs/webhooks.md).

// withWebhooks runs f with the webhook service where withRecords would find the records.
func (m *Main) withWebhooks(cmd *cobra.Command, f func(ctx context.Context, s latchkey.WebhookService) error) error {
	return m.withRecords(cmd, func(ctx context.Context, s latchkey.RecordService) error {
		hooks, ok := s.(latchkey.WebhookService)
		if !ok {
			return latchkey.Errorf(latchkey.EINTERNAL, "These records do not keep webhooks.")
		}
		return f(ctx, hooks)
	})
}

// webhookByID builds a command that acts on one webhook or delivery named by its id.
func (m *Main) webhookByID(use, short, what string, act func(ctx context.Context, s latchkey.WebhookService, id int64) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id < 1 {
				return latchkey.Errorf(latchkey.EINVALID, "%q is not a %s id; ids are whole numbers, as 'latchkey webhook ls' and 'latchkey webhook show' list them.", args[0], what)
			}
			return m.withWebhooks(cmd, func(ctx context.Context, s latchkey.WebhookService) error { return act(ctx, s, id) })
		}),
	}
}

func (m *Main) webhookCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Webhooks: events POSTed, signed, to URLs you choose (owners)"}
	group(cmd)
	var events []string
	var secretStdin bool
	add := &cobra.Command{
		Use:   "add URL --event KIND... [--secret-stdin]",
		Short: "Subscribe a URL to events; its signing secret is shown once",
		Long: `Subscribe a URL to events. Each event of the chosen kinds is POSTed to it as JSON, signed
with HMAC-SHA256 (docs/webhooks.md says how to check it), and tried again with backoff
for about a day until the receiver answers 2xx.

Kinds: ` + strings.Join(kindNames()[:6], ", ") + `,
` + strings.Join(kindNames()[6:], ", ") + `, or all.
Latchkey makes the signing secret unless --secret-stdin reads one of at least 16
characters from standard input; either way it is shown here once, and never again.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			kinds, err := latchkey.ParseWebhookKinds(events)
			if err != nil {
				return usagef("%s", strings.TrimSuffix(latchkey.ErrorMessage(err), "."))
			}
			var secret string
			if secretStdin {
				if secret, err = m.readSecret(); err != nil {
					return err
				}
			}
			return m.withWebhooks(cmd, func(ctx context.Context, s latchkey.WebhookService) error {
				w, secret, err := s.CreateWebhook(ctx, latchkey.NewWebhook{URL: args[0], Events: kinds, Secret: secret})
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"webhook": w, "secret": secret}, func(out io.Writer) {
					fmt.Fprintf(out, "Added webhook %d: %s gets %s.\n", w.ID, w.URL, kindsText(w.Events))
					fmt.Fprintf(out, "Its signing secret, shown this once: %s\n", secret)
				})
			})
		}),
	}
	add.Flags().StringArrayVar(&events, "event", nil, "an event kind to deliver (repeat, or separate with commas; all for every kind)")
	add.Flags().BoolVar(&secretStdin, "secret-stdin", false, "read the signing secret from standard input instead of having one made")

	ls := &cobra.Command{
		Use: "ls", Short: "List webhooks (never their secrets)", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.withWebhooks(cmd, func(ctx context.Context, s latchkey.WebhookService) error {
				hooks, err := s.FindWebhooks(ctx)
				if err != nil {
					return err
				}
				return m.emit(listView[*latchkey.Webhook]{hooks, len(hooks)}, func(w io.Writer) {
					table(w, "ID\tURL\tEVENTS\tSTATE\tSECRET", func(tw io.Writer) {
						for _, h := range hooks {
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.URL, kindsText(h.Events), enabledText(h.Enabled), h.SecretHint)
						}
					})
				})
			})
		}),
	}

	show := m.webhookByID("show ID", "Show a webhook and its recent deliveries", "webhook", func(ctx context.Context, s latchkey.WebhookService, id int64) error {
		h, err := s.FindWebhookByID(ctx, id)
		if err != nil {
			return err
		}
		ds, total, err := s.FindWebhookDeliveries(ctx, latchkey.WebhookDeliveryFilter{WebhookID: &id}, latchkey.Page{Limit: 20})
		if err != nil {
			return err
		}
		return m.emit(map[string]any{"webhook": h, "deliveries": ds, "deliveries_total": total}, func(w io.Writer) {
			fmt.Fprintf(w, "Webhook %d: %s, %s\n  events: %s\n  secret: %s (shown only when it was made)\n  added by %s on %s\n",
				h.ID, h.URL, enabledText(h.Enabled), kindsText(h.Events), h.SecretHint, h.CreatedBy, h.CreatedAt.Local().Format("2006-01-02 15:04"))
			if len(ds) == 0 {
				fmt.Fprintln(w, "No deliveries yet.")
				return
			}
			fmt.Fprintf(w, "Deliveries (%d newest of %d; 'latchkey webhook replay ID' sends one again):\n", len(ds), total)
			table(w, "ID\tEVENT\tAT\tSTATUS\tATTEMPTS\tLAST ANSWER", func(tw io.Writer) {
				for _, d := range ds {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.Kind, d.CreatedAt.Local().Format("2006-01-02 15:04:05"), deliveryText(d), len(d.Attempts), lastAnswer(d))
				}
			})
		})
	})
	rm := m.webhookByID("rm ID", "Remove a webhook and its delivery log", "webhook", func(ctx context.Context, s latchkey.WebhookService, id int64) error {
		if err := s.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return m.emit(map[string]int64{"deleted": id}, func(w io.Writer) { fmt.Fprintf(w, "Removed webhook %d.\n", id) })
	})
	toggle := func(enabled bool) func(ctx context.Context, s latchkey.WebhookService, id int64) error {
		return func(ctx context.Context, s latchkey.WebhookService, id int64) error {
			h, err := s.SetWebhookEnabled(ctx, id, enabled)
			if err != nil {
				return err
			}
			return m.emit(h, func(w io.Writer) { fmt.Fprintf(w, "Webhook %d is %s.\n", h.ID, enabledText(h.Enabled)) })
		}
	}
	enable := m.webhookByID("enable ID", "Resume a paused webhook: its waiting deliveries are sent", "webhook", toggle(true))
	disable := m.webhookByID("disable ID", "Pause a webhook: nothing is delivered to it until it is enabled", "webhook", toggle(false))
	replay := m.webhookByID("replay DELIVERY", "Send a delivery again (a new delivery of the same payload)", "delivery", func(ctx context.Context, s latchkey.WebhookService, id int64) error {
		d, err := s.ReplayWebhookDelivery(ctx, id)
		if err != nil {
			return err
		}
		return m.emit(d, func(w io.Writer) {
			fmt.Fprintf(w, "Delivery %d sends the %s of delivery %d again, now (latchkey webhook show %d).\n", d.ID, d.Kind, id, d.WebhookID)
		})
	})
	cmd.AddCommand(add, ls, show, rm, enable, disable, replay)
	return cmd
}

// readSecret reads a webhook's signing secret from standard input: one line.
func (m *Main) readSecret() (string, error) {
	if m.Interactive {
		fmt.Fprintf(m.Stderr, "Signing secret (at least %d characters): ", latchkey.MinWebhookSecretLen)
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "Type the signing secret on standard input, then Enter (or leave out --secret-stdin to have one made).")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func kindNames() []string {
	names := make([]string, len(latchkey.WebhookKinds))
	for i, k := range latchkey.WebhookKinds {
		names[i] = string(k)
	}
	return names
}

func kindsText(kinds []latchkey.WebhookKind) string {
	if len(kinds) == len(latchkey.WebhookKinds) {
		return "every event"
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

func enabledText(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// deliveryText says where a delivery stands, with its next attempt when it waits.
func deliveryText(d *latchkey.WebhookDelivery) string {
	s := string(d.Status)
	if d.ReplayOf != 0 {
		s += fmt.Sprintf(" (replay of %d)", d.ReplayOf)
	}
	if d.Status == latchkey.DeliveryPending && d.NextAttemptAt != nil && len(d.Attempts) > 0 {
		s += ", next try " + d.NextAttemptAt.Local().Format(time.TimeOnly)
	}
	return s
}

// lastAnswer is what the receiver last said, or why it said nothing.
func lastAnswer(d *latchkey.WebhookDelivery) string {
	if len(d.Attempts) == 0 {
		return "-"
	}
	a := d.Attempts[len(d.Attempts)-1]
	if a.Error != "" {
		return a.Error
	}
	return strconv.Itoa(a.HTTPStatus)
}
