package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// newLogger sets up slog once, for the whole program: text or JSON on stderr.
func (m *Main) newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "--log-level is debug, info, warn or error, not %q.", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	}
	return nil, latchkey.Errorf(latchkey.EINVALID, "--log-format is text or json, not %q.", format)
}

// NewServer returns the HTTP server over svc, wired with the catalog and key rules, as
// 'latchkey serve' runs it.
func (m *Main) NewServer(svc *latchkey.Service, addr string, log *slog.Logger) *lkhttp.Server {
	return &lkhttp.Server{Service: svc, Addr: addr, Logger: log, Catalog: uiCatalog{m},
		Ready: func(ctx context.Context) error {
			_, err := svc.CountUsers(ctx)
			return err
		}}
}

func (m *Main) serveCommand() *cobra.Command {
	var addr, logFormat, logLevel string
	var secure bool
	var proxies []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web UI and the API on the data directory (--data) or PostgreSQL (--db)",
		Long: `Serve Latchkey's JSON API (described at /api/v1/openapi.json), with /healthz, /readyz and
/metrics. Create the first account with 'latchkey user add NAME --role owner', or through
POST /api/v1/setup on a fresh server. Ctrl-C stops it cleanly.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			log, err := m.newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			trusted, err := parseProxies(proxies)
			if err != nil {
				return err
			}
			slog.SetDefault(log)
			ctx := cmd.Context()
			svc, closeStore, err := m.records(ctx)
			if err != nil {
				return err
			}
			// The hubs recorded (latchkey hub add) run through one proxy per driver kind,
			// which the engines hold: a hub added or removed later takes effect without a
			// restart. What the hubs' locks report is recorded as it arrives.
			hubs, err := m.startHubs(ctx, svc, log)
			if err != nil {
				closeStore()
				return err
			}
			procs, stopWork, err := m.startWork(ctx, svc, hubs.Drivers(), nil, log)
			if err != nil {
				hubs.Close()
				closeStore()
				return err
			}
			srv := m.NewServer(svc, addr, log.With(slog.String("component", "http")))
			srv.SecureCookies, srv.TrustedProxies, srv.Procedures, srv.Hubs = secure, trusted, procs, hubs
			if err := srv.Open(); err != nil {
				stopWork()
				hubs.Close()
				closeStore()
				return err
			}
			log.Info("serving", slog.String("url", srv.URL()), slog.String("data", m.dataDir))
			fmt.Fprintf(m.Stdout, "Latchkey is serving at %s (Ctrl-C stops it).\n", srv.URL())
			if n, err := svc.CountUsers(ctx); err == nil && n == 0 {
				fmt.Fprintf(m.Stdout, "No account yet: open %s/setup to create the owner's.\n", srv.URL())
			}
			<-ctx.Done()
			// Stop in order: no new requests, let those in flight finish, the changes at
			// locks and the webhook attempts under way, the hubs' connections, then the store.
			log.Info("stopping")
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = srv.Close(shutdown)
			stopWork()
			hubs.Close()
			closeStore()
			return err
		}),
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().BoolVar(&secure, "secure-cookies", false, "mark cookies Secure (behind a TLS proxy)")
	cmd.Flags().StringSliceVar(&proxies, "trusted-proxy", nil, "a reverse proxy's address or network (CIDR) whose X-Forwarded-For names the client; repeat for several")
	return cmd
}

// parseProxies reads --trusted-proxy values: addresses or networks.
func parseProxies(values []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range values {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, usagef("--trusted-proxy %q is neither an address (10.0.0.2) nor a network (10.0.0.0/8)", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// readPassword reads a password from standard input: one line.
func (m *Main) readPassword() (string, error) {
	if m.Interactive {
		fmt.Fprint(m.Stderr, "Password (at least 10 characters): ")
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "Type the password on standard input, then Enter.")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// remote returns the API client when --server names one.
func (m *Main) remote() (latchkey.RecordService, bool) {
	if m.server == "" {
		return nil, false
	}
	return lkhttp.NewClient(m.server, m.token), true
}
