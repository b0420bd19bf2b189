package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/procedure"
)

// Procedures on the command line: the scriptable commands (procedure start, step, show,
// ls, abort, escalate) here, the interactive ones (rekey, reset, turnover, procedure
// resume) in procedurewalk.go. Both drive the same runs as the API and the web runner.

// procedures gives a command the procedure engine and the records: the server's through
// its API with --server (or a demo running here), else an engine over the local data
// directory.
type procedures struct {
	latchkey.ProcedureService
	records latchkey.RecordService
	local   bool // over the local records: no engine works in this process
}

// withProcedures runs f with the procedures and records the command works on.
func (m *Main) withProcedures(cmd *cobra.Command, f func(ctx context.Context, p procedures) error) error {
	return m.withRecords(cmd, func(ctx context.Context, rs latchkey.RecordService) error {
		switch s := rs.(type) {
		case *lkhttp.Client:
			return f(ctx, procedures{ProcedureService: s, records: s})
		case *latchkey.Service:
			return m.localProcedures(s, func(ps latchkey.ProcedureService) error {
				return f(ctx, procedures{ProcedureService: ps, records: s, local: true})
			})
		}
		return latchkey.Errorf(latchkey.EINTERNAL, "No procedure engine for %T.", rs)
	})
}

// localProcedures runs f with a procedure engine over the local records. It plans runs
// and takes reports; it does no background work: the automatic steps (through a hub, or
// waiting for the sync engine) are done by the server that runs on these records
// ('latchkey serve'), as the codes are put on locks by its sync engine.
func (m *Main) localProcedures(svc *latchkey.Service, f func(latchkey.ProcedureService) error) error {
	return f(procedure.New(svc, m.Catalog))
}

func (m *Main) procedureCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "procedure",
		Short: "Safe procedures: guided rekeys, resets, code changes, battery swaps, lost keys and turnovers",
		Long: `A procedure is a risky change to a lock done the safe way: a plan of steps made for the
lock's exact model from the catalog, each with what to do, what to expect, what to confirm,
and a way out. Latchkey does the automatic steps itself (through the hub); a person does
the others and confirms each one. A run started here can be continued on the phone, and
the other way round.

For a person at the door, 'latchkey rekey', 'latchkey reset' and 'latchkey turnover' walk
a run step by step, and 'procedure resume' walks any active run from where it stands. The
other commands here are for scripts: each does one thing and takes --json.

On local records the automatic steps are done by the server running on them ('latchkey
serve'); with --server, by that server.`,
	}
	group(cmd)
	cmd.AddCommand(m.procedureStartCommand(), m.procedureStepCommand(), m.procedureShowCommand(), m.procedureLsCommand(),
		m.procedureAbortCommand(), m.procedureEscalateCommand(), m.procedureResumeCommand())
	return cmd
}

// startFlags are what a run is started with on the command line.
type startFlags struct {
	locks   []int64
	key     int64
	code    int64
	op      string
	rekey   bool
	hands   string
	mistake string
}

// register adds the flags a kind of run takes; nil kinds means every flag (procedure
// start).
func (sf *startFlags) register(cmd *cobra.Command, kinds ...latchkey.ProcedureKind) {
	f := cmd.Flags()
	f.Int64SliceVar(&sf.locks, "lock", nil, "the lock, or locks keyed alike, comma-separated (required, except for lost_key, whose locks are found from the key)")
	takes := func(k latchkey.ProcedureKind) bool {
		for _, kk := range kinds {
			if kk == k {
				return true
			}
		}
		return len(kinds) == 0
	}
	if takes(latchkey.ProcedureLostKey) {
		f.Int64Var(&sf.key, "key", 0, "lost_key: the key that is lost")
	}
	if takes(latchkey.ProcedureCode) {
		f.Int64Var(&sf.code, "code", 0, "code: the code to program or remove at the keypad")
		f.StringVar(&sf.op, "op", "", "code: add or remove")
	}
	if takes(latchkey.ProcedureTurnover) {
		f.BoolVar(&sf.rekey, "rekey", false, "turnover: rekey the SmartKey cylinders as well")
	}
	f.StringVar(&sf.hands, "hands", "", "sim: the twins' virtual hands do the manual steps (demo and tests)")
	f.StringVar(&sf.mistake, "mistake", "", "with --hands sim: a classic mistake the virtual hands make on purpose")
}

// request checks the flags against the kind of run and makes the request. Each refusal
// is bad usage: it names the flag and what to give instead.
func (sf *startFlags) request(kind latchkey.ProcedureKind) (latchkey.ProcedureRequest, error) {
	req := latchkey.ProcedureRequest{Kind: kind, LockIDs: sf.locks, KeyID: sf.key, CodeID: sf.code, CodeOp: sf.op, Rekey: sf.rekey, Hands: sf.hands, Mistake: sf.mistake}
	if err := kind.Validate(); err != nil {
		return req, usageError{latchkey.ErrorMessage(err)}
	}
	for _, id := range sf.locks {
		if id < 1 {
			return req, usagef("--lock %d is not a lock id; ids are whole numbers from 1, as 'latchkey lock ls' shows them", id)
		}
	}
	switch {
	case kind != latchkey.ProcedureLostKey && len(sf.locks) == 0:
		return req, usagef("name the lock with --lock ID (several locks keyed alike: --lock 1,2)")
	case kind == latchkey.ProcedureLostKey && sf.key == 0:
		return req, usagef("a lost_key run needs the lost key: --key ID ('latchkey key ls' lists them)")
	case kind == latchkey.ProcedureLostKey && len(sf.locks) > 0:
		return req, usagef("a lost_key run finds every lock the key opens by itself: leave out --lock")
	case kind != latchkey.ProcedureLostKey && sf.key != 0:
		return req, usagef("--key is for a lost_key run only; a %s run finds the lock's key in the records", kind)
	case kind == latchkey.ProcedureCode && (sf.code == 0 || (sf.op != "add" && sf.op != "remove")):
		return req, usagef("a code run needs the code and what to do with it: --code ID --op add|remove")
	case kind != latchkey.ProcedureCode && (sf.code != 0 || sf.op != ""):
		return req, usagef("--code and --op are for a code run only")
	case kind != latchkey.ProcedureTurnover && sf.rekey:
		return req, usagef("--rekey is for a turnover run only; start a rekey run to rekey")
	case sf.hands != "" && sf.hands != "sim":
		return req, usagef("--hands is sim (the twins' virtual hands) or left out (a person's hands), not %q", sf.hands)
	case sf.mistake != "" && sf.hands != "sim":
		return req, usagef("--mistake is made by the virtual hands: give --hands sim too")
	}
	return req, nil
}

func (m *Main) procedureStartCommand() *cobra.Command {
	var sf startFlags
	cmd := &cobra.Command{
		Use:   "start KIND (--lock ID[,ID] | --key ID) [--code ID --op add|remove] [--rekey] [--hands sim] [--mistake NAME]",
		Short: "Start a procedure run; prints its first step",
		Long: `Start a procedure run on a lock (or several locks keyed alike, for a rekey). KIND is one of:
identify, rekey, code, reset, battery, lost_key, turnover. The plan is made for the lock's
exact model; a run the lock's state forbids is refused, saying what to do first (identify
the model, swap the batteries, finish the other run).`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			req, err := sf.request(latchkey.ProcedureKind(args[0]))
			if err != nil {
				return err
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.StartProcedure(ctx, req)
				if err != nil {
					return err
				}
				return m.emitRun(r, newNames(ctx, p.records))
			})
		}),
	}
	sf.register(cmd)
	return cmd
}

// parseEvidence reads --evidence NAME=VALUE flags.
func parseEvidence(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok || k == "":
			return nil, usagef("--evidence %q is not NAME=VALUE (bitting=35242, battery_mv=6100, model=916)", v)
		case out[k] != "":
			return nil, usagef("--evidence %s is given twice; give each once", k)
		}
		out[k] = val
	}
	return out, nil
}

func (m *Main) procedureStepCommand() *cobra.Command {
	var a latchkey.Advance
	var evidence []string
	cmd := &cobra.Command{
		Use:   "step RUN [--step ID] [--attest NAME]... [--evidence NAME=VALUE]... [--failed --note TEXT] [--skip]",
		Short: "Report on a run's current step: done, failed or skipped",
		Long: `Report on the run's current step (or the step --step names, which must be the current
one: a report on a step already done changes nothing, so a script may repeat it).

Done: confirm each attestation the step asks for with --attest (repeat the flag) and give
its evidence with --evidence (bitting=CUTS read off the new key, or generate=yes to have
Latchkey generate cuts, shown once; battery_mv=N; model=ID). Failed: --failed --note
'what happened'; a step that fails as often as it may stops the run for a locksmith or
support. --skip goes on without the hub where the plan allows it.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("procedure", args[0])
			if err != nil {
				return err
			}
			if a.Evidence, err = parseEvidence(evidence); err != nil {
				return err
			}
			if a.Failed && a.Skip {
				return usagef("a step is reported --failed or --skip, not both")
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				if a.Step == "" {
					r, err := p.FindRunByID(ctx, id)
					if err != nil {
						return err
					}
					st, ok := r.Step()
					if !ok {
						return latchkey.Errorf(latchkey.ECONFLICT, "Run %d is %s: it has no step to report on.", r.ID, r.Status)
					}
					a.Step = st.ID
				}
				r, err := p.AdvanceProcedure(ctx, id, a)
				if err != nil {
					return err
				}
				return m.emitRun(r, newNames(ctx, p.records))
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&a.Step, "step", "", "the step reported on (default: the run's current step)")
	f.StringArrayVar(&a.Attest, "attest", nil, "an attestation the step asks for, confirmed (repeat for each)")
	f.StringArrayVar(&evidence, "evidence", nil, "NAME=VALUE evidence the step asks for (repeat for each)")
	f.BoolVar(&a.Failed, "failed", false, "the step did not go as described; say what happened with --note")
	f.BoolVar(&a.Skip, "skip", false, "go on without this step where the plan allows it (the hub is unreachable)")
	f.StringVar(&a.Note, "note", "", "what happened, for the records")
	return cmd
}

func (m *Main) procedureShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show RUN",
		Short: "Show a run: the current step for the person at the door, what was done, an escalation's report",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("procedure", args[0])
			if err != nil {
				return err
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.FindRunByID(ctx, id)
				if err != nil {
					return err
				}
				return m.emitRun(r, newNames(ctx, p.records))
			})
		}),
	}
}

func (m *Main) procedureLsCommand() *cobra.Command {
	var lock int64
	var status, kind string
	var pg latchkey.Page
	cmd := &cobra.Command{
		Use:   "ls [--lock ID] [--status active|done|aborted|escalated] [--kind KIND]",
		Short: "List procedure runs, newest first",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			var f latchkey.RunFilter
			if cmd.Flags().Changed("lock") {
				// --lock 0 would list every run, and a negative id would be refused in
				// the API's words: refused here, in the command's.
				if lock < 1 {
					return usagef("--lock %d is not a lock id; ids are whole numbers from 1, as 'latchkey lock ls' shows them", lock)
				}
				f.LockID = &lock
			}
			if status != "" {
				st := latchkey.RunStatus(status)
				switch st {
				case latchkey.RunActive, latchkey.RunDone, latchkey.RunAborted, latchkey.RunEscalated:
				default:
					return usagef("--status is active, done, aborted or escalated, not %q", status)
				}
				f.Status = &st
			}
			if kind != "" {
				k := latchkey.ProcedureKind(kind)
				if err := k.Validate(); err != nil {
					return usageError{latchkey.ErrorMessage(err)}
				}
				f.Kind = &k
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				runs, total, err := p.FindRuns(ctx, f, pg)
				if err != nil {
					return err
				}
				if runs == nil {
					runs = []*latchkey.Run{}
				}
				n := newNames(ctx, p.records)
				return m.emit(listView[*latchkey.Run]{Items: runs, Total: total}, func(w io.Writer) {
					if total == 0 {
						fmt.Fprintln(w, "No procedure runs. Start one with 'latchkey procedure start KIND --lock ID', or 'latchkey rekey --lock ID'.")
						return
					}
					table(w, "RUN\tKIND\tSTATUS\tSTEP\tLOCKS\tSTARTED", func(tw io.Writer) {
						for _, r := range runs {
							step := "-"
							if r.Status == latchkey.RunActive {
								step = fmt.Sprintf("%d of %d", r.Current+1, len(r.Steps))
							}
							fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Status, step, lockList(n, r.LockIDs), r.StartedAt.Local().Format("2006-01-02 15:04"))
						}
					})
					if total > len(runs) {
						fmt.Fprintf(w, "%d of %d shown; --offset and --limit page through the rest.\n", len(runs), total)
					}
				})
			})
		}),
	}
	f := cmd.Flags()
	f.Int64Var(&lock, "lock", 0, "only this lock's runs")
	f.StringVar(&status, "status", "", "only runs that are active, done, aborted or escalated")
	f.StringVar(&kind, "kind", "", "only runs of this procedure")
	pageFlags(cmd, &pg)
	return cmd
}

func (m *Main) procedureAbortCommand() *cobra.Command {
	var why string
	cmd := &cobra.Command{
		Use:   "abort RUN [--why TEXT]",
		Short: "Stop a run where it stands; says how to leave the lock safe",
		Long: `Stop an active run at its current step. Nothing is undone behind your back: what the
steps already recorded stays recorded, and the answer says how to leave the lock safe from
this step (the step's way out).`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("procedure", args[0])
			if err != nil {
				return err
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.AbortProcedure(ctx, id, why)
				if err != nil {
					return err
				}
				return m.emit(r, func(w io.Writer) { writeEnd(w, r) })
			})
		}),
	}
	cmd.Flags().StringVar(&why, "why", "", "why the run stops, for the records")
	return cmd
}

func (m *Main) procedureEscalateCommand() *cobra.Command {
	var to, why string
	cmd := &cobra.Command{
		Use:   "escalate RUN --to locksmith|support --why TEXT",
		Short: "Stop a run for a locksmith or Kwikset support, with a report of what was tried",
		Long: `Stop an active run because it needs a locksmith (a cylinder that does not turn, a
scrambled cylinder) or Kwikset support (a lock that does not reset or pair). The lock is
marked as waiting for them, and the answer is the report to hand over: what was tried, the
state the lock was left in (which key the records name, which codes), and the maker's
contacts.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			id, err := idArg("procedure", args[0])
			if err != nil {
				return err
			}
			if to != latchkey.EscalateLocksmith && to != latchkey.EscalateSupport {
				return usagef("--to is locksmith or support, not %q", to)
			}
			if strings.TrimSpace(why) == "" {
				return usagef("say why with --why: the locksmith or support reads it first")
			}
			return m.withProcedures(cmd, func(ctx context.Context, p procedures) error {
				r, err := p.EscalateProcedure(ctx, id, to, why)
				if err != nil {
					return err
				}
				return m.emit(r, func(w io.Writer) { writeEnd(w, r) })
			})
		}),
	}
	cmd.Flags().StringVar(&to, "to", "", "locksmith or support (required)")
	cmd.Flags().StringVar(&why, "why", "", "what went wrong (required)")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("why")
	return cmd
}

// emitRun prints a run: as JSON, or for a person (with a generated bitting's warning).
func (m *Main) emitRun(r *latchkey.Run, n *names) error {
	if r.Shown != "" && m.json {
		fmt.Fprintln(m.Stderr, shownWarning)
	}
	return m.emit(r, func(w io.Writer) { writeRun(w, r, n) })
}

// shownWarning goes with a generated bitting, the one time it is shown.
const shownWarning = "Shown once: write the new key's cuts down or have the key cut now. Latchkey keeps them sealed and does not show them again here (someone who may reveal codes can: latchkey key reveal)."

// writeRun renders a run for a person: where it stands, its current step, what was done
// so far, and how it ended.
func writeRun(w io.Writer, r *latchkey.Run, n *names) {
	fmt.Fprintf(w, "Run %d: %s (%s), %s\n", r.ID, r.Title, r.Kind, runStanding(r))
	fmt.Fprintf(w, "Locks: %s\n", lockList(n, r.LockIDs))
	fmt.Fprintf(w, "Started by %s on %s", r.StartedBy, r.StartedAt.Local().Format("2006-01-02 15:04"))
	if r.Params.Hands == "sim" {
		fmt.Fprint(w, "; the twins' virtual hands do the manual steps")
		if r.Params.Mistake != "" {
			fmt.Fprintf(w, ", with the mistake %q on purpose", r.Params.Mistake)
		}
	}
	fmt.Fprintln(w)
	if r.Shown != "" {
		fmt.Fprintf(w, "\nThe new key's cuts: %s\n%s\n", r.Shown, shownWarning)
	}
	if len(r.Records) > 0 {
		fmt.Fprintln(w, "\nSo far:")
		writeRecords(w, r)
	}
	if st, ok := r.Step(); ok {
		fmt.Fprintln(w)
		writeStep(w, r, st)
		fmt.Fprintf(w, "\n%s\n", stepHint(r, st))
		return
	}
	fmt.Fprintln(w)
	writeEnd(w, r)
}

// runStanding says where a run stands in a few words.
func runStanding(r *latchkey.Run) string {
	if r.Status == latchkey.RunActive {
		return fmt.Sprintf("active, step %d of %d", r.Current+1, len(r.Steps))
	}
	return string(r.Status)
}

// lockList names a run's locks.
func lockList(n *names, ids []int64) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = n.lock(id)
	}
	return strings.Join(out, ", ")
}

// writeStep renders a step for the person doing it: what to do, what to see, the classic
// mistake, what the sources do not confirm, what to confirm, and the way out.
func writeStep(w io.Writer, r *latchkey.Run, st *latchkey.Step) {
	fmt.Fprintf(w, "Step %d of %d: %s\n", r.Current+1, len(r.Steps), st.Title)
	if st.Kind == latchkey.StepAuto {
		fmt.Fprintln(w, "  (done by Latchkey through the hub)")
	}
	line := func(label, text string) {
		if text != "" {
			fmt.Fprintf(w, "  %-12s %s\n", label+":", text)
		}
	}
	line("Do", st.Do)
	line("Expect", st.Expect)
	line("Caution", st.Caution)
	line("Unconfirmed", st.Unconfirmed)
	line("Warranty", st.Warranty)
	if st.WaitS > 0 {
		line("Timing", fmt.Sprintf("the lock waits about %d s for the next press", st.WaitS))
	}
	if len(st.Attest) > 0 {
		fmt.Fprintln(w, "  Confirm:")
		for _, a := range st.Attest {
			fmt.Fprintf(w, "    - %s (%s)\n", latchkey.AttestationText(a), a)
		}
	}
	if len(st.Evidence) > 0 {
		line("Give", strings.Join(st.Evidence, ", "))
	}
	for i, c := range st.Choices {
		note := ""
		if c.Note != "" {
			note = ": " + c.Note
		}
		fmt.Fprintf(w, "    %d. %s (%s)%s\n", i+1, c.Label, c.Value, note)
	}
	failed := r.FailedAt(st.ID) // every try at this step, as the run counts them to stop
	if failed > 0 {
		line("Tried", fmt.Sprintf("reported failed %s", plural(failed, "time")))
	}
	line("Way out", st.Abort)
	if st.EscalateTo != "" {
		who := map[string]string{latchkey.EscalateLocksmith: "a locksmith", latchkey.EscalateSupport: "Kwikset support"}[st.EscalateTo]
		tries := st.MaxTries()
		switch left := tries - failed; {
		case tries == 0:
			line("If it fails", "Latchkey tries again by itself; stop the run, or call "+who+", if it never works")
		case left <= 1 && st.EscalateTo == latchkey.EscalateLocksmith:
			line("If it fails", "stop and call a locksmith; do not force it (reporting it failed stops the run for one)")
		case left <= 1:
			line("If it fails", "stop and call Kwikset support (reporting it failed stops the run for them)")
		default:
			line("If it fails", fmt.Sprintf("report it failed and do it again; after %s the run stops for %s", plural(tries, "failed try"), who))
		}
	}
	if len(st.Sources) > 0 {
		line("Sources", strings.Join(st.Sources, ", "))
	}
}

// stepHint says how to report on the current step from the command line.
func stepHint(r *latchkey.Run, st *latchkey.Step) string {
	if st.Kind == latchkey.StepAuto {
		return fmt.Sprintf("Latchkey does this step itself; 'latchkey procedure show %d' follows it.", r.ID)
	}
	if r.Params.Hands != "" {
		return fmt.Sprintf("The virtual hands (%s) do this step at the twin; 'latchkey procedure show %d' follows them.\nStop: latchkey procedure abort %d --why '...'", r.Params.Hands, r.ID, r.ID)
	}
	cmd := fmt.Sprintf("latchkey procedure step %d", r.ID)
	for _, a := range st.Attest {
		cmd += " --attest " + a
	}
	for _, e := range st.Evidence {
		cmd += " --evidence " + e + "=..."
	}
	return fmt.Sprintf("Done: %s\nFailed: latchkey procedure step %d --failed --note 'what happened'\nStop: latchkey procedure abort %d --why '...'", cmd, r.ID, r.ID)
}

// writeRecords lists what was reported at each step, oldest first.
func writeRecords(w io.Writer, r *latchkey.Run) {
	titles := map[string]string{}
	for _, st := range r.Steps {
		titles[st.ID] = st.Title
	}
	for _, rec := range r.Records {
		title := titles[rec.Step]
		if title == "" {
			title = rec.Step
		}
		fmt.Fprintf(w, "  %s  %-8s %s (%s)", rec.At.Local().Format("15:04"), rec.Outcome, title, rec.Actor)
		if len(rec.Evidence) > 0 {
			var ev []string
			for k, v := range rec.Evidence {
				ev = append(ev, k+"="+v)
			}
			slices.Sort(ev)
			fmt.Fprintf(w, "; %s", strings.Join(ev, ", "))
		}
		if rec.Note != "" {
			fmt.Fprintf(w, ": %s", rec.Note)
		}
		fmt.Fprintln(w)
	}
}

// writeEnd says how a run ended: its outcome, and an escalation's report to hand over.
func writeEnd(w io.Writer, r *latchkey.Run) {
	if r.Status == latchkey.RunActive {
		fmt.Fprintf(w, "Run %d is at step %d of %d.\n", r.ID, r.Current+1, len(r.Steps))
		return
	}
	fmt.Fprintf(w, "Run %d %s", r.ID, r.Status)
	if r.EndedAt != nil {
		fmt.Fprintf(w, " on %s", r.EndedAt.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(w, ".")
	if r.Outcome != "" {
		fmt.Fprintln(w, r.Outcome)
	}
	e := r.Escalation
	if e == nil {
		return
	}
	who := map[string]string{latchkey.EscalateLocksmith: "a locksmith", latchkey.EscalateSupport: "Kwikset support"}[e.To]
	fmt.Fprintf(w, "\nFor %s:\n  Why: %s\n", who, e.Why)
	for _, section := range []struct {
		title string
		lines []string
	}{{"What was tried", e.Tried}, {"State left", e.StateLeft}, {"Contacts", e.Contacts}} {
		if len(section.lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", section.title)
		for _, l := range section.lines {
			fmt.Fprintf(w, "    - %s\n", l)
		}
	}
}
