package http

import (
	"context"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// The procedure pages: the list of runs, starting a run from a lock's page (a lost key
// from its key's page), and the runner, made for a phone at the door: one step per
// screen, the model's instructions, one big box to tick per thing to confirm, a big
// "Done", and at every step a way out (stop here, safely; call for help). The runner is
// one address for every device, so a run started on a laptop goes on from a phone; the
// domain refuses a report on a step that is not the current one, and the page then says
// who did that step and shows the one the run is at.

func (s *Server) procedureUIRoutes() []uiRoute {
	read, write := latchkey.PermRead, latchkey.PermWrite
	return []uiRoute{
		{Method: "GET", Pattern: "/procedures", Perm: read, handler: s.pageProcedures},
		{Method: "POST", Pattern: "/locks/{id}/procedures", Perm: write, handler: s.pageStartProcedure},
		{Method: "POST", Pattern: "/keys/{id}/procedures", Perm: write, handler: s.pageStartLostKey},
		{Method: "GET", Pattern: "/procedures/{id}", Perm: read, handler: s.pageRun},
		{Method: "POST", Pattern: "/procedures/{id}/step", Perm: write, handler: s.pageRunStep},
		{Method: "POST", Pattern: "/procedures/{id}/abort", Perm: write, handler: s.pageRunAbort},
		{Method: "POST", Pattern: "/procedures/{id}/escalate", Perm: write, handler: s.pageRunEscalate},
	}
}

// procedureNames name the procedures for people, and say in a line what each does.
var procedureNames = map[latchkey.ProcedureKind][2]string{
	latchkey.ProcedureIdentify: {"Identify the model", "Answer a few questions about what you see at the door; Latchkey finds the exact model, which every other procedure depends on."},
	latchkey.ProcedureRekey:    {"Rekey to a new key", "The SmartKey cylinder learns a new key. The old key keeps working until the new one has been tested from both sides."},
	latchkey.ProcedureCode:     {"Put a code on, or take it off", "At the keypad with the model's button sequence (or through the hub, for a lock on one), then tried at the door."},
	latchkey.ProcedureReset:    {"Factory reset", "Off the hub first, the model's reset sequence, door handing, paired again, every code put back."},
	latchkey.ProcedureBattery:  {"Replace the batteries", "Fresh batteries before any programming, then the lock's reading checked."},
	latchkey.ProcedureLostKey:  {"A key is lost", "The key is recorded lost, and every lock it opens is rekeyed."},
	latchkey.ProcedureTurnover: {"Rental turnover", "Guests' and service people's codes taken off and confirmed gone, a rekey if asked, and a report."},
}

func procedureName(k latchkey.ProcedureKind) string {
	if n, ok := procedureNames[k]; ok {
		return n[0]
	}
	return string(k)
}

// runItem is one run in a list.
type runItem struct {
	Run   *latchkey.Run
	Name  string
	Locks []lockRef
	Step  string // the current step's title, while active
}

type lockRef struct {
	ID   int64
	Name string
}

type proceduresPage struct {
	base
	Active, Ended []runItem
	Locks         []*latchkey.Lock // to choose one lock's runs
	LockID        int64            // the lock chosen, 0 for all
	NoEngine      bool
}

// procedureListSize is how many finished runs the list shows.
const procedureListSize = 50

// pageProcedures lists the runs in progress first, then the latest finished ones, of
// every lock or of one.
func (s *Server) pageProcedures(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := proceduresPage{base: s.base(r, "procedures"), NoEngine: s.Procedures == nil}
	var f latchkey.RunFilter
	if v := r.URL.Query().Get("lock"); v != "" {
		id, ok := canonicalNumber(v, 1)
		if !ok {
			s.renderError(w, r, latchkey.Errorf(latchkey.EINVALID, "Choose a lock from the list."))
			return
		}
		f.LockID, page.LockID = &id, id
	}
	locks, _, err := s.Service.FindLocks(ctx, latchkey.LockFilter{}, latchkey.Page{Limit: 1000})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page.Locks = locks
	names := lockNames(locks)
	active := latchkey.RunActive
	f.Status = &active
	runs, _, err := s.Service.FindRuns(ctx, f, latchkey.Page{Limit: 1000})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page.Active = runItems(runs, names)
	f.Status = nil
	runs, _, err = s.Service.FindRuns(ctx, f, latchkey.Page{Limit: procedureListSize + len(page.Active)})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	for _, it := range runItems(runs, names) {
		if it.Run.Status != latchkey.RunActive && len(page.Ended) < procedureListSize {
			page.Ended = append(page.Ended, it)
		}
	}
	s.render(w, r, http.StatusOK, "procedures", page)
}

func lockNames(locks []*latchkey.Lock) map[int64]string {
	names := make(map[int64]string, len(locks))
	for _, l := range locks {
		names[l.ID] = l.Name
	}
	return names
}

func runItems(runs []*latchkey.Run, names map[int64]string) []runItem {
	out := make([]runItem, 0, len(runs))
	for _, run := range runs {
		it := runItem{Run: run, Name: procedureName(run.Kind)}
		if run.Title != "" {
			it.Name = run.Title
		}
		for _, id := range run.LockIDs {
			it.Locks = append(it.Locks, lockRef{ID: id, Name: or(names[id], "lock "+strconv.FormatInt(id, 10))})
		}
		if st, ok := run.Step(); ok {
			it.Step = st.Title
		}
		out = append(out, it)
	}
	return out
}

// activeRuns lists the runs in progress.
func (s *Server) activeRuns(ctx context.Context, names map[int64]string) ([]runItem, error) {
	active := latchkey.RunActive
	runs, _, err := s.Service.FindRuns(ctx, latchkey.RunFilter{Status: &active}, latchkey.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	return runItems(runs, names), nil
}

// attentionProcedure is the procedure that answers what a lock needs, for the
// dashboard's list of locks that need attention: a rekey for an exposed lock, fresh
// batteries for a low one, its model for an unidentified one ("" for none).
func attentionProcedure(l *latchkey.Lock) latchkey.ProcedureKind {
	switch {
	case l.Status == latchkey.LockExposed && l.HasSmartKey && l.ModelID != "":
		return latchkey.ProcedureRekey
	case l.Status == latchkey.LockUnidentified || l.ModelID == "":
		return latchkey.ProcedureIdentify
	case l.State.LowBattery() && l.Status == latchkey.LockOK:
		return latchkey.ProcedureBattery
	}
	return ""
}

// procedureOffer is a procedure a lock's page offers to start.
type procedureOffer struct {
	Kind        latchkey.ProcedureKind
	Name, About string
	Refused     string // why it cannot start now ("" when it can)
}

// mistakeChoice is a mistake the virtual hands can make on purpose, in words.
type mistakeChoice struct {
	Name, Words string
}

// codeChoice is a code a code procedure can program or remove at the keypad.
type codeChoice struct {
	Value, Label string
}

// lockProcedures is the procedures card of a lock's page: the run in progress, the
// latest finished ones, and what can be started.
type lockProcedures struct {
	Active   *runItem
	Ended    []runItem
	Offers   []procedureOffer
	Codes    []codeChoice // for the code procedure
	Hands    string       // the virtual hands that can do the steps at the twins, if any
	Mistakes []mistakeChoice
	Rekey    bool // a turnover can rekey too
	NoEngine bool
}

// lockProceduresCard reads what a lock's page shows of its procedures.
func (s *Server) lockProceduresCard(ctx context.Context, rec *latchkey.LockRecord, takesCodes bool) (lockProcedures, error) {
	l := rec.Lock
	card := lockProcedures{NoEngine: s.Procedures == nil, Hands: s.Hands, Rekey: l.HasSmartKey}
	if s.Hands != "" {
		for _, m := range s.Mistakes {
			card.Mistakes = append(card.Mistakes, mistakeChoice{Name: m, Words: strings.ReplaceAll(m, "_", " ")})
		}
	}
	runs, _, err := s.Service.FindRuns(ctx, latchkey.RunFilter{LockID: &l.ID}, latchkey.Page{Limit: 6})
	if err != nil {
		return card, err
	}
	for _, it := range runItems(runs, map[int64]string{l.ID: l.Name}) {
		if it.Run.Status == latchkey.RunActive && card.Active == nil {
			card.Active = &it
			continue
		}
		if len(card.Ended) < 5 {
			card.Ended = append(card.Ended, it)
		}
	}
	if card.Active != nil {
		return card, nil // one procedure at a time on a lock
	}
	offer := func(k latchkey.ProcedureKind, refused string) {
		card.Offers = append(card.Offers, procedureOffer{Kind: k, Name: procedureNames[k][0], About: procedureNames[k][1], Refused: refused})
	}
	if l.ModelID == "" {
		offer(latchkey.ProcedureIdentify, "")
		return card, nil // every other procedure depends on the exact model
	}
	electronic := takesCodes || l.Connection.Driver != ""
	lowBattery := ""
	if l.State.LowBattery() {
		lowBattery = "Its battery is low: replace the batteries first (programming on a weak battery can leave a code half-written)."
	}
	if l.HasSmartKey {
		refused := ""
		if l.Status == latchkey.LockNeedsLocksmith {
			refused = "It is waiting for a locksmith: a scrambled or forced cylinder does not learn a key again."
		}
		offer(latchkey.ProcedureRekey, refused)
	}
	if electronic {
		offer(latchkey.ProcedureBattery, "")
		offer(latchkey.ProcedureReset, lowBattery)
	}
	if takesCodes {
		// A code on its way on can be put on; a revoked one on its way off taken off.
		for _, g := range rec.Grants {
			c := rec.Codes[g.CodeID]
			if c == nil {
				continue
			}
			who := c.Label
			if p := rec.People[c.PersonID]; p != nil {
				who += " (" + p.Name + ")"
			}
			switch {
			case g.Status == latchkey.GrantRemoving:
				card.Codes = append(card.Codes, codeChoice{strconv.FormatInt(c.ID, 10) + ":remove", "Take off " + who})
			case g.Status != latchkey.GrantSet && g.Status != latchkey.GrantRemoved && !c.Revoked:
				card.Codes = append(card.Codes, codeChoice{strconv.FormatInt(c.ID, 10) + ":add", "Put on " + who})
			}
		}
		refused := lowBattery
		if refused == "" && len(card.Codes) == 0 {
			refused = "No code is waiting to go on this lock or come off it."
		}
		offer(latchkey.ProcedureCode, refused)
		offer(latchkey.ProcedureTurnover, lowBattery)
	}
	return card, nil
}

// pageStartProcedure starts a procedure on the lock and opens its runner.
func (s *Server) pageStartProcedure(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	req := latchkey.ProcedureRequest{Kind: latchkey.ProcedureKind(r.PostFormValue("kind")), LockIDs: []int64{id},
		Rekey: r.PostFormValue("rekey") == "1"}
	if h := r.PostFormValue("hands"); h != "" && h == s.Hands {
		req.Hands = h
	}
	err = req.Kind.Validate()
	if err == nil && req.Rekey && req.Kind != latchkey.ProcedureTurnover {
		err = latchkey.Errorf(latchkey.EINVALID, "“Rekey the lock as well” goes with a rental turnover: choose the turnover, or untick it (a rekey on its own is the Rekey procedure).")
	}
	if m := r.PostFormValue("mistake"); err == nil && m != "" {
		switch {
		case req.Hands == "":
			err = latchkey.Errorf(latchkey.EINVALID, "A mistake on purpose is made by the virtual hands: tick them too, or choose no mistake.")
		case !slices.Contains(s.Mistakes, m):
			err = latchkey.Errorf(latchkey.EINVALID, "Choose the mistake from the list.")
		}
		req.Mistake = m
	}
	if err == nil && req.Kind == latchkey.ProcedureCode {
		// "12:add": the code, and whether it goes on or comes off.
		code, op, _ := strings.Cut(r.PostFormValue("code"), ":")
		n, ok := canonicalNumber(code, 1)
		if !ok || (op != "add" && op != "remove") {
			err = latchkey.Errorf(latchkey.EINVALID, "Choose the code to program or remove from the list.")
		}
		req.CodeID, req.CodeOp = n, op
	}
	var run *latchkey.Run
	if err == nil {
		run, err = s.startProcedure(r.Context(), req)
	}
	if err != nil {
		s.lockBack(w, r, id, "", err)
		return
	}
	http.Redirect(w, r, runPath(run.ID), http.StatusSeeOther)
}

// pageStartLostKey starts the lost-key procedure for a key: the engine finds the locks
// it opens.
func (s *Server) pageStartLostKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	run, err := s.startProcedure(r.Context(), latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey, KeyID: id})
	if err != nil {
		page, perr := s.keyPage(r, id)
		if perr != nil {
			s.renderError(w, r, err)
			return
		}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusOf(w, err), "key", page)
		return
	}
	http.Redirect(w, r, runPath(run.ID), http.StatusSeeOther)
}

func (s *Server) startProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	if s.Procedures == nil {
		return nil, errNoEngine
	}
	return s.Procedures.StartProcedure(ctx, req)
}

var errNoEngine = latchkey.Errorf(latchkey.EUNAVAILABLE, "No procedure engine runs on this server, so no procedure can be started or moved on here; run them on the server that runs the engine (latchkey serve).")

func runPath(id int64) string { return "/procedures/" + strconv.FormatInt(id, 10) }

// attestItem is one thing to confirm at a step.
type attestItem struct {
	Name, Label string
}

// evidenceField is one piece of evidence a step asks for, and how the page asks for it.
type evidenceField struct {
	Name, Label, Hint string
	Kind              string // bitting, choice or text
	Choices           []latchkey.Choice
}

// historyLine is one report on a step, as the run's history shows it.
type historyLine struct {
	Step, Actor, Outcome, Note string
	At                         time.Time
	Attested                   []string
	Evidence                   []string
}

// contactLine is someone to call, with a number to tap for each number in the text.
type contactLine struct {
	Text  string
	Calls []call
}

// call is a number to tap: as written, and as a tel: link.
type call struct {
	Number string
	Tel    template.URL
}

type runPage struct {
	base
	Run          *latchkey.Run
	Name         string
	Locks        []lockRef
	Step         *latchkey.Step
	Number       int
	Total        int
	Auto         bool // done by Latchkey itself: the page waits for it
	VirtualHands bool // the twins' virtual hands do the manual steps
	Attest       []attestItem
	Evidence     []evidenceField
	Questions    []Question    // identify: what the person can see, each answer optional
	Drawing      template.HTML // a key, where the step handles one
	Keypad       bool
	Wait         string // how long the step says to wait, in words
	CanSkip      bool
	Failures     int
	LastTry      bool   // reporting the step failed once more stops the run for help
	RetryFrom    string // the step a failure goes back to, to do the sequence again
	EscalateTo   string
	Contacts     []contactLine
	Already      string // a report on a step someone else had done
	Shown        string // a generated bitting, this once
	ShownDrawing template.HTML
	History      []historyLine
	Escalation   *latchkey.Escalation
	NoEngine     bool
	LastFailure  string        // what the latest failed try at the current step said
	NewKey       *latchkey.Key // a finished rekey's new key, and the key it replaced
	OldKey       *latchkey.Key
}

// pageRun shows a run: its current step, or how it ended.
func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var run *latchkey.Run
	if err == nil {
		run, err = s.Service.FindRunByID(r.Context(), id)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	page, err := s.runPage(r, run)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if st := r.URL.Query().Get("already"); st != "" {
		page.Already = alreadyDone(run, st)
	}
	s.render(w, r, http.StatusOK, "procedure", page)
}

// runPage reads what a run's page shows.
func (s *Server) runPage(r *http.Request, run *latchkey.Run) (runPage, error) {
	page := runPage{base: s.base(r, "procedures"), Run: run, Name: procedureName(run.Kind), Total: len(run.Steps),
		Number: min(run.Current+1, len(run.Steps)), VirtualHands: run.Params.Hands == "sim", NoEngine: s.Procedures == nil,
		Escalation: run.Escalation}
	if run.Title != "" {
		page.Name = run.Title
	}
	if run.Status == latchkey.RunDone {
		page.Number = page.Total
	}
	names := map[int64]string{}
	for _, id := range run.LockIDs {
		l, err := s.Service.FindLockByID(r.Context(), id)
		switch {
		case err == nil:
			names[id] = l.Name
		case latchkey.ErrorCode(err) != latchkey.ENOTFOUND: // a lock removed since keeps its number
			return page, err
		}
	}
	page.Locks = runItems([]*latchkey.Run{run}, names)[0].Locks
	contacts := run.Contacts
	if run.Escalation != nil && len(run.Escalation.Contacts) > 0 {
		contacts = run.Escalation.Contacts
	}
	for _, c := range contacts {
		page.Contacts = append(page.Contacts, contactLine{Text: c, Calls: calls(c)})
	}
	titles := map[string]string{}
	for _, st := range run.Steps {
		titles[st.ID] = st.Title
	}
	for _, rec := range run.Records {
		h := historyLine{Step: or(titles[rec.Step], rec.Step), Actor: rec.Actor, Outcome: string(rec.Outcome), Note: rec.Note, At: rec.At}
		for _, a := range rec.Attested {
			h.Attested = append(h.Attested, latchkey.AttestationText(a))
		}
		for _, k := range slices.Sorted(maps.Keys(rec.Evidence)) {
			h.Evidence = append(h.Evidence, evidenceText(k, rec.Evidence[k]))
		}
		page.History = append(page.History, h)
	}
	st, ok := run.Step()
	if !ok {
		if run.Status == latchkey.RunDone && run.Params.NewKeyID != 0 {
			var err error
			if page.NewKey, err = s.Service.FindKeyByID(r.Context(), run.Params.NewKeyID); err != nil {
				return page, err
			}
			if run.Params.OldKeyID != 0 && run.Params.OldKeyID != run.Params.NewKeyID {
				if page.OldKey, err = s.Service.FindKeyByID(r.Context(), run.Params.OldKeyID); err != nil {
					return page, err
				}
			}
		}
		return page, nil
	}
	page.Step = st
	page.Auto = st.Kind == latchkey.StepAuto
	page.Wait = waitText(st.WaitS)
	page.CanSkip = st.Auto == latchkey.AutoExclude || st.Auto == latchkey.AutoInclude
	page.Failures = run.FailedAt(st.ID)
	for _, rec := range run.Records {
		if rec.Step == st.ID && rec.Outcome == latchkey.StepFailed {
			page.LastFailure = rec.Note
		}
	}
	tries := st.MaxTries()
	page.LastTry = tries > 0 && page.Failures+1 >= tries
	for _, o := range run.Steps[:run.Current] {
		if st.Retry != "" && o.ID == st.Retry {
			page.RetryFrom = o.Title
		}
	}
	page.EscalateTo = st.Escalation()
	for _, a := range st.Attest {
		page.Attest = append(page.Attest, attestItem{Name: a, Label: latchkey.AttestationText(a)})
	}
	for _, name := range st.Evidence {
		page.Evidence = append(page.Evidence, s.evidenceField(st, name))
	}
	if asksAnswers(run, st) {
		page.Questions = s.Catalog.IdentifyQuestions()
	}
	switch st.Picture {
	case "key":
		// Our own drawing of an uncut key: the shape, never a bitting.
		page.Drawing = template.HTML(s.Catalog.KeyBlankSVG())
	case "keypad":
		page.Keypad = true
	}
	return page, nil
}

// evidenceField says how the page asks for a piece of evidence.
func (s *Server) evidenceField(st *latchkey.Step, name string) evidenceField {
	f := evidenceField{Name: name, Label: strings.ReplaceAll(name, "_", " "), Kind: "text"}
	switch {
	case name == "bitting":
		f.Kind, f.Label = "bitting", "The new key's cuts"
		f.Hint = "Five digits, one per cut, read from the bow to the tip, each from 1 (shallow) to 6 (deep), such as 3 5 2 4 2. They are often printed on the new key's tag or card."
	case len(st.Choices) > 0 && (name == "model" || len(st.Evidence) == 1):
		f.Kind, f.Choices = "choice", st.Choices
		if name == "model" {
			f.Label = "Which model is it?"
		}
	case name == "model":
		f.Kind, f.Label = "choice", "Which model is it?"
		for _, m := range s.Catalog.Models() {
			f.Choices = append(f.Choices, latchkey.Choice{Value: m.ID, Label: m.Name})
		}
	}
	return f
}

// asksAnswers reports whether the step is the identify procedure's look at the lock:
// the catalog's questions, each answered or left out, before the models that fit.
func asksAnswers(run *latchkey.Run, st *latchkey.Step) bool {
	return run.Kind == latchkey.ProcedureIdentify && st.Kind == latchkey.StepManual && st.Action == latchkey.ActionNone && len(st.Evidence) == 0
}

// evidenceText says a piece of recorded evidence in words.
func evidenceText(name, value string) string {
	switch {
	case name == "bitting":
		return "the new key's cuts: " + value
	case name == "generate" && value == "yes":
		return "the new key's cuts: made by Latchkey"
	case name == "battery_mv":
		if mv, err := strconv.Atoi(value); err == nil {
			return "battery: " + strconv.FormatFloat(float64(mv)/1000, 'f', 1, 64) + " V"
		}
	}
	return strings.ReplaceAll(name, "_", " ") + ": " + value
}

// waitText says a wait in words: "30 seconds", "2 minutes", "1 minute 30 seconds".
func waitText(seconds int) string {
	if seconds <= 0 {
		return ""
	}
	m, sec := seconds/60, seconds%60
	var parts []string
	if m > 0 {
		parts = append(parts, plural(m, "minute", "minutes"))
	}
	if sec > 0 {
		parts = append(parts, plural(sec, "second", "seconds"))
	}
	return strings.Join(parts, " ")
}

// alreadyDone says who reported a step that is behind the run, for someone whose report
// on it came too late; "" when the step is not one the run is past.
func alreadyDone(run *latchkey.Run, stepID string) string {
	i := slices.IndexFunc(run.Steps, func(st latchkey.Step) bool { return st.ID == stepID })
	if i < 0 || (i >= run.Current && run.Status == latchkey.RunActive) {
		return ""
	}
	title := run.Steps[i].Title
	for j := len(run.Records) - 1; j >= 0; j-- {
		rec := run.Records[j]
		if rec.Step == stepID {
			how := "was already done"
			switch rec.Outcome {
			case latchkey.StepSkipped:
				how = "was already skipped"
			case latchkey.StepAborted:
				how = "was stopped"
			case latchkey.StepFailed:
				how = "was reported not working"
			}
			text := "“" + title + "” " + how + " by " + rec.Actor + " at " + rec.At.Local().Format("15:04") + "."
			if run.Status == latchkey.RunActive {
				return text + " Here is the step the run is at now."
			}
			return text + " The run has ended; here is how."
		}
	}
	if run.Status != latchkey.RunActive {
		return "The run ended before “" + title + "” was reported; here is how it ended."
	}
	return ""
}

var phoneNumber = regexp.MustCompile(`\+?\d[\d\-. ()]{8,}\d`)

// calls finds the numbers to tap in a contact's text ("Kwikset support 1-800-327-5625
// (Halo/Aura); 1-866-863-6584 (SmartCode 910)").
func calls(text string) []call {
	var out []call
	for _, m := range phoneNumber.FindAllString(text, 4) {
		if tel := telLink(m); tel != "" {
			out = append(out, call{Number: m, Tel: tel})
		}
	}
	return out
}

// telLink makes a number to tap from a contact's text ("Kwikset support: 1-800-327-5625");
// "" when it holds no phone number.
func telLink(text string) template.URL {
	m := phoneNumber.FindString(text)
	var digits strings.Builder
	for _, c := range m {
		if c >= '0' && c <= '9' {
			digits.WriteRune(c)
		}
	}
	if digits.Len() < 10 || digits.Len() > 15 {
		return ""
	}
	prefix := "tel:"
	if strings.HasPrefix(m, "+") {
		prefix += "+"
	}
	// Digits only: nothing of the text reaches the link but them.
	return template.URL(prefix + digits.String())
}

// runAct runs an act on the run named in the path, for the step the form was made for:
// a form made for a step the run has left says who did that step and shows the current
// one, instead of acting on a step the person has not seen.
func (s *Server) runAct(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, run *latchkey.Run, st *latchkey.Step) (*latchkey.Run, error)) {
	id, err := pathID(r, "id")
	var run *latchkey.Run
	if err == nil {
		run, err = s.Service.FindRunByID(r.Context(), id)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	stepID := r.PostFormValue("step")
	st, ok := run.Step()
	if !ok || st.ID != stepID {
		s.runMovedOn(w, r, run, stepID)
		return
	}
	if s.Procedures == nil {
		err = errNoEngine
	}
	var after *latchkey.Run
	if err == nil {
		after, err = act(r.Context(), run, st)
	}
	if latchkey.ErrorCode(err) == latchkey.ECONFLICT {
		// Someone else's report got there first, or the step is waiting for the hub.
		if now, ferr := s.Service.FindRunByID(r.Context(), id); ferr == nil && (now.Status != latchkey.RunActive || now.Current != run.Current) {
			s.runMovedOn(w, r, now, stepID)
			return
		}
	}
	if err != nil {
		page, perr := s.runPage(r, run)
		if perr != nil {
			s.renderError(w, r, err)
			return
		}
		if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
			logger(r).Error("page failed", "error", err.Error())
		}
		page.Error = latchkey.ErrorMessage(err)
		s.render(w, r, statusOf(w, err), "procedure", page)
		return
	}
	if after.Shown != "" && st.Action == latchkey.ActionNewKey {
		// A generated bitting is shown once, in the answer to the step that made it: a
		// reload sends the report again, which changes nothing and shows it no more.
		page, err := s.runPage(r, after)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		page.Shown = after.Shown
		page.ShownDrawing = template.HTML(s.Catalog.KeySVG(after.Shown)) // our own drawing of a bitting the domain made
		s.render(w, r, http.StatusOK, "procedure", page)
		return
	}
	http.Redirect(w, r, runPath(id), http.StatusSeeOther)
}

// runMovedOn sends a late report back to the run's page, which says who did the step.
func (s *Server) runMovedOn(w http.ResponseWriter, r *http.Request, run *latchkey.Run, stepID string) {
	if alreadyDone(run, stepID) == "" && slices.ContainsFunc(run.Steps, func(st latchkey.Step) bool { return st.ID == stepID }) {
		// A step ahead of the run: it went back (a sequence to do again from its start)
		// since the form was made. The report is not recorded; the page says so.
		page, err := s.runPage(r, run)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		page.Error = "Your report was not recorded: the run went back to this step since your page was made, so do it again from here."
		s.render(w, r, http.StatusConflict, "procedure", page)
		return
	}
	if !slices.ContainsFunc(run.Steps, func(st latchkey.Step) bool { return st.ID == stepID }) {
		page, err := s.runPage(r, run)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		page.Error = "That form is for a step this run does not have; here is the step it is at."
		s.render(w, r, http.StatusBadRequest, "procedure", page)
		return
	}
	http.Redirect(w, r, runPath(run.ID)+"?already="+url.QueryEscape(stepID), http.StatusSeeOther)
}

// pageRunStep reports the current step done, failed or (only where the hub is to take
// the lock off and is unreachable) skipped.
func (s *Server) pageRunStep(w http.ResponseWriter, r *http.Request) {
	s.runAct(w, r, func(ctx context.Context, run *latchkey.Run, st *latchkey.Step) (*latchkey.Run, error) {
		a := latchkey.Advance{Step: st.ID, Note: r.PostFormValue("note")}
		switch r.PostFormValue("outcome") {
		case "done":
			a.Attest = r.PostForm["attest"]
			a.Evidence = map[string]string{}
			names := slices.Clone(st.Evidence)
			if asksAnswers(run, st) {
				for _, q := range s.Catalog.IdentifyQuestions() {
					names = append(names, q.Name) // an answer left out is "don't know"
				}
			}
			for _, name := range names {
				if name == "bitting" && r.PostFormValue("bitting_from") == "generate" {
					a.Evidence["generate"] = "yes"
					continue
				}
				if v := strings.TrimSpace(r.PostFormValue("ev_" + name)); v != "" {
					a.Evidence[name] = v
				}
			}
			if err := s.unticked(st, a); err != nil {
				return nil, err
			}
		case "failed":
			a.Failed = true
			if strings.TrimSpace(a.Note) == "" {
				return nil, latchkey.Errorf(latchkey.EINVALID, "Say in a few words what happened instead (the key did not turn, the light stayed red): whoever helps next reads it.")
			}
		case "skip":
			a.Skip = true
		default:
			return nil, latchkey.Errorf(latchkey.EINVALID, "Tap Done, or say that it did not work.")
		}
		return s.Procedures.AdvanceProcedure(ctx, run.ID, a)
	})
}

// unticked refuses a report of a step done that lacks what the step asks for, in the
// words the page shows: a person ticked sentences, not attestation names.
func (s *Server) unticked(st *latchkey.Step, a latchkey.Advance) error {
	var missing []string
	for _, name := range st.Attest {
		if !slices.Contains(a.Attest, name) {
			missing = append(missing, "“"+latchkey.AttestationText(name)+"”")
		}
	}
	for _, name := range st.Evidence {
		if a.Evidence[name] == "" && (name != "bitting" || a.Evidence["generate"] != "yes") {
			missing = append(missing, "“"+s.evidenceField(st, name).Label+"”")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return latchkey.Errorf(latchkey.EINVALID, "Not done yet: %s. Tick each box (and fill in what is asked) once it is true, then tap Done; if it did not go as described, tap It didn't work instead.", strings.Join(missing, ", "))
}

// pageRunAbort stops the run where it stands, once the person confirmed they read how
// to leave the lock safe.
func (s *Server) pageRunAbort(w http.ResponseWriter, r *http.Request) {
	s.runAct(w, r, func(ctx context.Context, run *latchkey.Run, st *latchkey.Step) (*latchkey.Run, error) {
		if r.PostFormValue("confirm") != "1" {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Tick the box that says you read what to do, then stop the procedure.")
		}
		return s.Procedures.AbortProcedure(ctx, run.ID, r.PostFormValue("why"))
	})
}

// pageRunEscalate stops the run for a locksmith or Kwikset support.
func (s *Server) pageRunEscalate(w http.ResponseWriter, r *http.Request) {
	s.runAct(w, r, func(ctx context.Context, run *latchkey.Run, st *latchkey.Step) (*latchkey.Run, error) {
		return s.Procedures.EscalateProcedure(ctx, run.ID, r.PostFormValue("to"), r.PostFormValue("why"))
	})
}
