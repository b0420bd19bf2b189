package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

// The interactive procedures: a run walked step by step on the terminal, for the person
// at the door. Every answer becomes the same report the API takes; leaving (q) leaves the
// run where it stands, to be continued here later or on the phone.

// walkPoll is how often a walk looks whether Latchkey has done an automatic step.
var walkPoll = time.Second

func (m *Main) rekeyCommand() *cobra.Command {
	return m.walkCommand(latchkey.ProcedureRekey, "rekey --lock ID[,ID]",
		"Rekey a SmartKey cylinder (or several keyed alike), step by step",
		`Rekey a lock's SmartKey cylinder to a new key, step by step on the terminal: the working
key, the tool and the new key at hand, the door open, the maker's sequence for the model,
the new key tried three times from each side, and only then the old key retired and its
copies listed to be returned. Several locks keyed alike (--lock 1,2) take the new key in
one run. At each question: y confirms, n says not yet, f reports the step failed, a aborts
with the step's way out, q leaves the run to continue later ('latchkey procedure resume')
or on the phone.`)
}

func (m *Main) resetCommand() *cobra.Command {
	return m.walkCommand(latchkey.ProcedureReset, "reset --lock ID",
		"Factory reset a lock, step by step: off the hub first, the model's sequence, paired again, codes put back",
		`Factory reset an electronic lock step by step on the terminal, with its model's sequence:
taken off its hub first where it is on one, the reset, the door handing with the door open,
paired again, and every code it should hold put back and read back. The lock is
quarantined from the reset until its codes are back. Answers as for 'latchkey rekey'.`)
}

func (m *Main) turnoverCommand() *cobra.Command {
	return m.walkCommand(latchkey.ProcedureTurnover, "turnover --lock ID[,ID] [--rekey]",
		"End a rental stay: guests' codes removed and confirmed gone, optionally a rekey, a report",
		`End a stay step by step on the terminal: every guest's and service person's code on the
locks revoked and confirmed gone (until each lock confirms, a code is revocation pending,
retried, and an alert goes out if it opens the door), with --rekey the SmartKey cylinders
rekeyed, and a report in each lock's service log. Answers as for 'latchkey rekey'.`)
}

// walkCommand makes an interactive command that starts a run of kind and walks it.
func (m *Main) walkCommand(kind latchkey.ProcedureKind, use, short, long string) *cobra.Command {
	var sf startFlags
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if m.json {
				return usagef("'%s' asks questions as it goes; for a script use 'latchkey procedure start %s ... --json' and 'latchkey procedure step'", cmd.CommandPath(), kind)
			}
			req, err := sf.request(kind)
			if err != nil {
				return err
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.StartProcedure(ctx, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "Run %d: %s, %s on %s.\n", r.ID, r.Title, plural(len(r.Steps), "step"), lockList(newNames(ctx, p.records), r.LockIDs))
				return m.walk(ctx, p, r)
			})
		}),
	}
	sf.register(cmd, kind)
	return cmd
}

func (m *Main) procedureResumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume RUN",
		Short: "Walk an active run from its current step, with questions as 'latchkey rekey' asks them",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if m.json {
				return usagef("'%s' asks questions as it goes; for a script use 'latchkey procedure show' and 'latchkey procedure step'", cmd.CommandPath())
			}
			id, err := idArg("procedure", args[0])
			if err != nil {
				return err
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.FindRunByID(ctx, id)
				if err != nil {
					return err
				}
				return m.walk(ctx, p, r)
			})
		}),
	}
}

// walker walks one run on the terminal.
type walker struct {
	p     procedures
	out   io.Writer
	errw  io.Writer
	lines <-chan string // the person's answers, one a line; closed at the end of input
}

// choice is what the person chose at a step.
type choice int

const (
	chooseReport choice = iota // a report: done or failed
	chooseAbort
	chooseLeave
)

// walk shows each step of the run and reports the person's answers, until the run ends
// or the person leaves it.
func (m *Main) walk(ctx context.Context, p procedures, r *latchkey.Run) error {
	done := make(chan struct{})
	defer close(done)
	w := &walker{p: p, out: m.Stdout, errw: m.Stderr, lines: readLines(m.Stdin, done)}
	for {
		st, ok := r.Step()
		if !ok {
			return w.end(r)
		}
		fmt.Fprintln(w.out)
		writeStep(w.out, r, st)
		if st.Kind == latchkey.StepAuto || r.Params.Hands == "sim" {
			next, c, err := w.wait(ctx, r, st)
			switch {
			case err != nil:
				return err
			case c == chooseLeave:
				return w.leave(r)
			case c == chooseAbort:
				return w.abort(ctx, r, st)
			}
			r = next
			continue
		}
		a, c := w.ask(r, st)
		switch c {
		case chooseLeave:
			return w.leave(r)
		case chooseAbort:
			return w.abort(ctx, r, st)
		}
		next, err := p.AdvanceProcedure(ctx, r.ID, a)
		if code := latchkey.ErrorCode(err); code == latchkey.EINVALID || code == latchkey.ECONFLICT {
			// The report did not fit, or the run moved on elsewhere (the phone): say so,
			// and show the run as it stands now.
			fmt.Fprintf(w.errw, "latchkey: %s\n", latchkey.ErrorMessage(err))
			if next, err = p.FindRunByID(ctx, r.ID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if next.Shown != "" {
			fmt.Fprintf(w.out, "\n  The new key's cuts: %s\n  %s\n", next.Shown, shownWarning)
		}
		if a.Failed && next.Status == latchkey.RunActive {
			if next.Current < r.Current {
				fmt.Fprintf(w.out, "  Reported failed: back to step %d, to do the sequence again from its start.\n", next.Current+1)
			} else {
				fmt.Fprintf(w.out, "  Reported failed (%s so far at this step).\n", plural(next.Failures, "time"))
			}
		}
		r = next
	}
}

// readLines feeds the lines of in to a channel, closed at the end of input, until done.
func readLines(in io.Reader, done <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			case <-done:
				return
			}
		}
	}()
	return lines
}

// prompt asks a question and returns the answer; ok is false at the end of input.
func (w *walker) prompt(question string) (string, bool) {
	fmt.Fprint(w.out, question)
	line, ok := <-w.lines
	if !ok {
		fmt.Fprintln(w.out)
	}
	return line, ok
}

// control reads the answers every question takes besides its own: f (failed), a (abort)
// and q (leave). The end of input leaves.
func (w *walker) control(answer string, ok bool, st *latchkey.Step) (latchkey.Advance, choice, bool) {
	if !ok {
		return latchkey.Advance{}, chooseLeave, true
	}
	switch strings.ToLower(answer) {
	case "q":
		return latchkey.Advance{}, chooseLeave, true
	case "a":
		return latchkey.Advance{}, chooseAbort, true
	case "f":
		// Whoever helps next (a locksmith, support, the person on the phone) reads it:
		// an empty answer is asked again, as the web runner asks for it.
		note, ok := w.prompt("  What happened? ")
		for ok && strings.TrimSpace(note) == "" {
			note, ok = w.prompt("  Say in a few words what happened instead (the key did not turn, the light stayed red): ")
		}
		if !ok {
			return latchkey.Advance{}, chooseLeave, true
		}
		return latchkey.Advance{Step: st.ID, Failed: true, Note: note}, chooseReport, true
	}
	return latchkey.Advance{}, 0, false
}

// ask asks the person to confirm each attestation of the step and to give its evidence.
func (w *walker) ask(r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, choice) {
	const keys = "y yes, n not yet, f failed, a abort, q leave for later"
	a := latchkey.Advance{Step: st.ID}
	if r.Kind == latchkey.ProcedureIdentify && st.ID == "look" {
		// The engine ranks the models by these answers, each optional, for the next step.
		return w.askLook(st)
	}
	if len(st.Attest) == 0 && len(st.Evidence) == 0 {
		for {
			ans, ok := w.prompt(fmt.Sprintf("  Done as described? [%s] ", keys))
			if adv, c, handled := w.control(ans, ok, st); handled {
				return adv, c
			}
			if yes(ans) {
				return a, chooseReport
			}
			w.notYet(ans)
		}
	}
	for _, name := range st.Attest {
		for {
			ans, ok := w.prompt(fmt.Sprintf("  %s? [%s] ", latchkey.AttestationText(name), keys))
			if adv, c, handled := w.control(ans, ok, st); handled {
				return adv, c
			}
			if yes(ans) {
				a.Attest = append(a.Attest, name)
				break
			}
			w.notYet(ans)
		}
	}
	for _, name := range st.Evidence {
		for {
			ans, ok := w.prompt("  " + evidenceQuestion(name, st) + " ")
			if adv, c, handled := w.control(ans, ok, st); handled {
				return adv, c
			}
			key, value, err := evidenceAnswer(name, ans, st)
			if err != nil {
				fmt.Fprintf(w.out, "  %s\n", err)
				continue
			}
			if a.Evidence == nil {
				a.Evidence = map[string]string{}
			}
			a.Evidence[key] = value
			break
		}
	}
	return a, chooseReport
}

// askLook asks what the lock looks like, as 'latchkey models identify' does; Enter
// leaves an answer out.
func (w *walker) askLook(st *latchkey.Step) (latchkey.Advance, choice) {
	a := latchkey.Advance{Step: st.ID, Evidence: map[string]string{}}
	for _, q := range identifyQuestions {
		for {
			ans, ok := w.prompt(fmt.Sprintf("  %s [%s, Enter if unsure; f, a, q] ", q.Prompt, strings.Join(q.Values(), "/")))
			if adv, c, handled := w.control(ans, ok, st); handled {
				return adv, c
			}
			ans = strings.ToLower(ans)
			if ans == "" || slices.Contains(q.Values(), ans) {
				if ans != "" {
					a.Evidence[q.Name] = ans
				}
				break
			}
			fmt.Fprintf(w.out, "  Answer one of: %s; or Enter if unsure.\n", strings.Join(q.Values(), ", "))
		}
	}
	return a, chooseReport
}

func yes(ans string) bool {
	ans = strings.ToLower(ans)
	return ans == "y" || ans == "yes"
}

// notYet answers a "no" or an answer that is none of the keys.
func (w *walker) notYet(ans string) {
	if a := strings.ToLower(ans); a == "n" || a == "no" {
		fmt.Fprintln(w.out, "  Then do it first and answer y. If it cannot be done as described, answer f; to stop, a.")
		return
	}
	fmt.Fprintln(w.out, "  Answer y, n, f, a or q.")
}

// evidenceQuestion asks for one piece of evidence.
func evidenceQuestion(name string, st *latchkey.Step) string {
	switch {
	case name == "bitting":
		return "The new key's five cut depths, bow to tip (such as 35242), or g to have Latchkey generate them [f, a, q]:"
	case name == "battery_mv":
		return "The battery reading in millivolts [f, a, q]:"
	case len(st.Choices) > 0:
		return fmt.Sprintf("Which one is it? 1 to %d [f, a, q]:", len(st.Choices))
	}
	return fmt.Sprintf("%s [f, a, q]:", strings.ReplaceAll(name, "_", " "))
}

// evidenceAnswer turns an answer into the evidence the step asks for.
func evidenceAnswer(name, ans string, st *latchkey.Step) (key, value string, err error) {
	switch {
	case ans == "":
		return "", "", fmt.Errorf("an answer is needed here (or f, a, q)")
	case name == "bitting" && strings.EqualFold(ans, "g"):
		return "generate", "yes", nil
	case len(st.Choices) > 0 && name != "bitting":
		for i, c := range st.Choices {
			if ans == fmt.Sprint(i+1) || ans == c.Value {
				return name, c.Value, nil
			}
		}
		return "", "", fmt.Errorf("answer with a number from 1 to %d", len(st.Choices))
	}
	return name, ans, nil
}

// wait shows that Latchkey (or the virtual hands) is doing the step, until the run moves
// on. The person may leave (q), abort (a), or skip a step the plan allows to be skipped
// (s: the hub is unreachable).
func (w *walker) wait(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (*latchkey.Run, choice, error) {
	who := "Latchkey is doing this step"
	if st.Kind != latchkey.StepAuto {
		who = "The virtual hands are doing this step on the twin"
	}
	skip := st.Auto == latchkey.AutoExclude
	keys := "q leave it running, a abort"
	if skip {
		keys += ", s skip: the hub cannot be reached"
	}
	if w.p.local && st.Kind == latchkey.StepAuto {
		who = "The Latchkey server on these records ('latchkey serve') does this step; until it does, the run waits here"
	}
	fmt.Fprintf(w.out, "  %s [%s] ", who, keys)
	tick := time.NewTicker(walkPoll)
	defer tick.Stop()
	lines, dots := w.lines, 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w.out)
			return nil, chooseLeave, nil
		case ans, ok := <-lines:
			if !ok {
				lines = nil // no more answers: wait for Latchkey alone
				continue
			}
			switch strings.ToLower(ans) {
			case "q":
				return nil, chooseLeave, nil
			case "a":
				return nil, chooseAbort, nil
			case "s":
				if skip {
					next, err := w.p.AdvanceProcedure(ctx, r.ID, latchkey.Advance{Step: st.ID, Skip: true, Note: "skipped at the terminal: the hub cannot be reached"})
					return next, chooseReport, err
				}
			}
			fmt.Fprintf(w.out, "  [%s] ", keys)
		case <-tick.C:
			next, err := w.p.FindRunByID(ctx, r.ID)
			if err != nil {
				return nil, 0, err
			}
			if next.Version != r.Version {
				fmt.Fprintln(w.out)
				if next.Status == latchkey.RunActive && next.Current == r.Current && next.Failures > r.Failures {
					fmt.Fprintf(w.out, "  That try failed%s; Latchkey tries again.\n", lastNote(next))
				}
				return next, chooseReport, nil
			}
			if dots++; dots%60 == 0 {
				fmt.Fprint(w.out, "\n  ")
			}
			fmt.Fprint(w.out, ".")
		}
	}
}

// lastNote is the note of the run's last record, for a failure's message.
func lastNote(r *latchkey.Run) string {
	if len(r.Records) == 0 || r.Records[len(r.Records)-1].Note == "" {
		return ""
	}
	return ": " + r.Records[len(r.Records)-1].Note
}

// abort stops the run after showing the step's way out and asking why.
func (w *walker) abort(ctx context.Context, r *latchkey.Run, st *latchkey.Step) error {
	fmt.Fprintf(w.out, "  Way out from here: %s\n", st.Abort)
	why, _ := w.prompt("  Why stop? (for the records; Enter to leave it out) ")
	next, err := w.p.AbortProcedure(ctx, r.ID, why)
	if err != nil {
		return err
	}
	fmt.Fprintln(w.out)
	writeEnd(w.out, next)
	return nil
}

// leave leaves the run where it stands.
func (w *walker) leave(r *latchkey.Run) error {
	fmt.Fprintf(w.out, "\nRun %d stays at step %d of %d. Continue it with 'latchkey procedure resume %d', or on the phone (Procedures in the web UI).\n",
		r.ID, r.Current+1, len(r.Steps), r.ID)
	return nil
}

// end says how the run ended; a run that stopped for help fails the command.
func (w *walker) end(r *latchkey.Run) error {
	fmt.Fprintln(w.out)
	writeEnd(w.out, r)
	if r.Status == latchkey.RunEscalated {
		return latchkey.Errorf(latchkey.ECONFLICT, "Run %d stopped for help; hand over the report above.", r.ID)
	}
	return nil
}
