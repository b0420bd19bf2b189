// Command latchkey is the one Latchkey binary: the command-line interface, and later the
// server. This package is the only place that wires the others together.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// version is stamped at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	setGCPolicy()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		m.Interactive = true
	}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is the program: its inputs and outputs, and what it is wired to.
type Main struct {
	Stdin       io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
	Interactive bool      // stdin is a terminal: questions may be asked
	Random      io.Reader // source of randomness for keys and codes
	Catalog     *catalog.Catalog

	json    bool   // --json was given
	dataDir string // --data
	dbURL   string // --db
	server  string // --server
	token   string // --token
}

// NewMain returns a Main on the process's standard streams and the embedded catalog.
func NewMain() *Main {
	return &Main{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Random:  rand.Reader,
		Catalog: catalog.Default(),
	}
}

// runError marks an error returned by a command's own work, as opposed to one cobra
// returns for bad usage (an unknown command or flag, a wrong number of arguments).
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// usageError is a bad flag value or argument found by a command's own checks: bad usage
// (exit 2), like the errors cobra finds itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run adapts a command body so that its errors are told apart from usage errors.
func run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return runError{err}
		}
		return nil
	}
}

// group makes cmd a command that only holds subcommands: alone it prints its help, and
// with an unknown subcommand it is a usage error (cobra would print the help and succeed).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
	}
	return cmd
}

// Run executes the command line args and returns the exit status (SPEC §5).
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return latchkey.ExitOK
	}
	var re runError
	var ue usageError
	if !errors.As(err, &re) || errors.As(err, &ue) {
		m.reportUsage(cmd, err)
		return latchkey.ExitUsage
	}
	m.reportError(re.err)
	return latchkey.ExitStatus(re.err)
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "latchkey",
		Short: "Keep every lock under control: keys, codes, and safe changes to Kwikset locks",
		Long: `Latchkey keeps the records of which key or code opens which door, and makes the
risky changes to Kwikset locks safe: rekeying SmartKey cylinders, managing PIN codes,
factory resets. Every command takes --json for machine-readable output.

Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 refused as unsafe.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	group(root)
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().BoolVar(&m.json, "json", false, "print machine-readable JSON")
	root.PersistentFlags().StringVar(&m.dataDir, "data", defaultDataDir(), "data directory: the SQLite database and the vault key (or set LATCHKEY_DATA)")
	// The URL and the token come from the environment when their flags are not given, but
	// are not the flags' defaults: help would print them (a password, a token).
	root.PersistentFlags().StringVar(&m.dbURL, "db", "", "PostgreSQL URL instead of the embedded database (or set LATCHKEY_DB)")
	root.PersistentFlags().StringVar(&m.server, "server", os.Getenv("LATCHKEY_SERVER"), "work against this Latchkey server instead of local data (or set LATCHKEY_SERVER)")
	root.PersistentFlags().StringVar(&m.token, "token", "", "API token for --server (or set LATCHKEY_TOKEN)")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if m.dbURL == "" {
			m.dbURL = os.Getenv("LATCHKEY_DB")
		}
		if m.token == "" {
			m.token = os.Getenv("LATCHKEY_TOKEN")
		}
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(m.versionCommand(), m.modelsCommand(), m.keyCommand(), m.codeCommand(), m.simCommand(),
		m.siteCommand(), m.doorCommand(), m.lockCommand(), m.personCommand(), m.auditCommand(), m.migrateCommand(), m.vaultCommand(),
		m.exportCommand(), m.backupCommand(), m.restoreCommand(), m.serveCommand(), m.demoCommand(), m.userCommand(), m.tokenCommand(), m.webhookCommand(), m.hubCommand(), m.benchCommand(),
		m.procedureCommand(), m.rekeyCommand(), m.resetCommand(), m.turnoverCommand())
	return root
}

func (m *Main) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.emit(map[string]string{"version": version, "go": runtime.Version()}, func(w io.Writer) {
				fmt.Fprintf(w, "latchkey %s (%s)\n", version, runtime.Version())
			})
		}),
	}
}

// emit prints v as JSON with --json, and calls human otherwise.
func (m *Main) emit(v any, human func(w io.Writer)) error {
	if m.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(m.Stdout)
	return nil
}

// encodeJSON writes v as one line of JSON.
func encodeJSON(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// reportError prints a command's error: the user-facing message only, never internal
// details (those are for logs).
func (m *Main) reportError(err error) {
	code, msg := latchkey.ErrorCode(err), latchkey.ErrorMessage(err)
	if m.json {
		var body errorBody
		body.Error.Code, body.Error.Message = code, msg
		_ = encodeJSON(m.Stdout, body)
		return
	}
	prefix := "latchkey"
	if code == latchkey.EUNSAFE {
		prefix = "latchkey: refused as unsafe"
	}
	fmt.Fprintf(m.Stderr, "%s: %s\n", prefix, msg)
}

func (m *Main) reportUsage(cmd *cobra.Command, err error) {
	path := "latchkey"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	msg := fmt.Sprintf("%s. Run '%s --help' for usage.", strings.TrimRight(err.Error(), "."), path)
	if m.json {
		var body errorBody
		body.Error.Code, body.Error.Message = latchkey.EINVALID, msg
		_ = encodeJSON(m.Stdout, body)
		return
	}
	fmt.Fprintf(m.Stderr, "latchkey: %s\n", msg)
}

// badFlagValue matches pflag's refusal of a flag's value, which quotes Go's parser.
var badFlagValue = regexp.MustCompile(`^invalid argument "(.*)" for "(.*)" flag: strconv\.Parse(Int|Uint|Float|Bool)`)

// flagError words a flag's bad value for people: what the flag takes, instead of
// strconv's words.
func flagError(_ *cobra.Command, err error) error {
	m := badFlagValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	names := strings.Split(m[2], ", ") // "-l, --lock" for a flag with a shorthand
	flag := names[len(names)-1]
	if m[3] == "Bool" {
		return usagef("%s takes true or false (or nothing: %s alone is true), not %q", flag, flag, m[1])
	}
	return usagef("%s takes a number (digits, such as %s 3; several, where it takes a list: 3,4), not %q", flag, flag, m[1])
}
