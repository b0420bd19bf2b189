package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

func (m *Main) simCommand() *cobra.Command {
	var scenario string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Digital twins of Kwikset locks: an interactive console, or 'sim run' for scenarios",
		Long: `Digital twins of Kwikset locks on a virtual clock. Alone, 'latchkey sim' opens a
console to handle twins by hand: press keys, pull the battery, turn a key, advance the
clock. Type 'help' there for the commands. --scenario loads a scenario's twins (and runs
its steps) first. 'latchkey sim run FILE' runs a scenario and prints its trace.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			return m.console(scenario)
		}),
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "start from this scenario's twins and steps")
	cmd.AddCommand(m.simRunCommand(), m.simZ2MCommand())
	return cmd
}

func (m *Main) simRunCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Run a scenario against twins and print its trace",
		Long: `Run a scenario (the format is in docs/simulator.md; examples are in examples/) and
print the trace: readable, or with --json one JSON object a line. A step that fails, an
'expect' that does not hold included, stops the run with exit status 1 after the trace.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			s, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			w, runErr := s.Run()
			if w != nil {
				if err := m.writeTrace(w.Trace()); err != nil {
					return err
				}
			}
			return runErr
		}),
	}
}

func loadScenario(path string) (*sim.Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Cannot read the scenario %s: %v.", path, err)
	}
	s, err := sim.ParseScenario(data)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "%s: %s", path, latchkey.ErrorMessage(err))
	}
	return s, nil
}

func (m *Main) writeTrace(entries []sim.Entry) error {
	if m.json {
		return sim.WriteJSON(m.Stdout, entries)
	}
	return sim.WriteText(m.Stdout, entries)
}

// defaultConsoleScenario is what plain 'latchkey sim' starts with: a SmartKey cylinder,
// a 916 on Z-Wave and a 910 on Zigbee, each with a code.
const defaultConsoleScenario = `
seed: 1
twins:
  - name: front
    cylinder: {bitting: "35242"}
  - name: deadbolt
    lock: {model: "916", radio: zwave, paired: true, locked: true, codes: {1: "135790"}}
  - name: garage
    lock: {model: "910", radio: zigbee, paired: true, locked: true, dip: {led: true, auto_lock: true, audio: true}, codes: {1: "246813"}}
`

// console runs the interactive twin console on Stdin and Stdout.
func (m *Main) console(scenarioPath string) error {
	var s *sim.Scenario
	var err error
	if scenarioPath != "" {
		s, err = loadScenario(scenarioPath)
	} else {
		s, err = sim.ParseScenario([]byte(defaultConsoleScenario))
	}
	if err != nil {
		return err
	}
	steps := s.Steps
	s.Steps = nil
	w, err := s.Build()
	if err != nil {
		return err
	}
	c := &sim.Console{W: w, Current: w.Names()[0], Out: m.Stdout}
	w.OnEntry(func(e sim.Entry) {
		if m.json {
			_ = sim.WriteJSON(m.Stdout, []sim.Entry{e})
			return
		}
		fmt.Fprintln(m.Stdout, sim.FormatEntry(e))
	})
	for _, step := range steps {
		if err := c.Exec(step); err != nil {
			return err
		}
	}
	if m.Interactive && !m.json {
		fmt.Fprintf(m.Stdout, "Latchkey twin console. Twins: %s. Type help for commands, quit to leave.\n", strings.Join(w.Names(), ", "))
		_ = c.Exec("twins")
	}
	in := bufio.NewScanner(m.Stdin)
	for {
		if m.Interactive && !m.json {
			fmt.Fprintf(m.Stdout, "sim %s> ", c.Current)
		}
		if !in.Scan() {
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		if line == "quit" || line == "exit" {
			return nil
		}
		if err := c.Exec(line); err != nil {
			m.consoleError(err)
		}
	}
}

// consoleError reports a command's error and carries on: one bad line does not end the
// session.
func (m *Main) consoleError(err error) {
	var w io.Writer = m.Stderr
	if m.json {
		var body errorBody
		body.Error.Code, body.Error.Message = latchkey.ErrorCode(err), latchkey.ErrorMessage(err)
		_ = encodeJSON(m.Stdout, body)
		return
	}
	fmt.Fprintf(w, "%s\n", latchkey.ErrorMessage(err))
}
