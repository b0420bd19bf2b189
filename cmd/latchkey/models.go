package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

func (m *Main) modelsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "The catalog of Kwikset models: list, show, identify",
	}
	group(cmd)
	cmd.AddCommand(m.modelsLsCommand(), m.modelsShowCommand(), m.modelsIdentifyCommand())
	return cmd
}

func (m *Main) modelsLsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the models in the catalog",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			models := m.Catalog.Models
			return m.emit(models, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "MODEL\tNAME\tKEYPAD\tRADIOS\tCODES\tRESET")
				for _, md := range models {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", md.ID, md.Name,
						short(md.Keypad, str), short(md.Radios, radios), short(md.MaxUserCodes, itoa), short(md.Reset, str))
				}
				tw.Flush()
				fmt.Fprintln(w, "\n? = unconfirmed by the sources; 'latchkey models show MODEL' tells what Latchkey assumes and why.")
			})
		}),
	}
}

// modelView is the JSON form of 'models show': the model, the sequences it refers to,
// and the sources its facts cite.
type modelView struct {
	Model     *catalog.Model               `json:"model"`
	Rules     codeRulesView                `json:"code_rules"`
	Sequences map[string]*catalog.Sequence `json:"sequences"`
	Sources   map[string]*catalog.Source   `json:"sources"`
}

type codeRulesView struct {
	Capacity          int      `json:"capacity"` // -1: unknown
	MinLength         int      `json:"min_length"`
	MaxLength         int      `json:"max_length"`
	UniquePrefix      int      `json:"unique_prefix,omitempty"`
	ForbiddenPrefixes []string `json:"forbidden_prefixes,omitempty"`
	SameButtons       bool     `json:"same_buttons"`
}

func (m *Main) modelsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show MODEL",
		Short: "Show everything the catalog knows of a model, with sources",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			md, err := m.Catalog.Model(args[0])
			if err != nil {
				return err
			}
			view := m.modelView(md)
			return m.emit(view, func(w io.Writer) { writeModel(w, view) })
		}),
	}
}

func (m *Main) modelView(md *catalog.Model) modelView {
	r := md.Rules()
	view := modelView{
		Model: md,
		Rules: codeRulesView{Capacity: r.Capacity, MinLength: r.MinLen, MaxLength: r.MaxLen,
			UniquePrefix: r.UniquePrefix, ForbiddenPrefixes: r.ForbiddenPrefixes, SameButtons: r.SameButtons},
		Sequences: map[string]*catalog.Sequence{},
		Sources:   map[string]*catalog.Source{},
	}
	for _, id := range md.SequenceIDs() {
		if s := m.Catalog.Sequences[id]; s != nil {
			view.Sequences[id] = s
		}
	}
	for _, tag := range md.SourceTags() {
		view.Sources[tag] = m.Catalog.Sources[tag]
	}
	for _, s := range view.Sequences {
		for _, tag := range s.Sources {
			view.Sources[tag] = m.Catalog.Sources[tag]
		}
	}
	return view
}

func writeModel(w io.Writer, v modelView) {
	md := v.Model
	fmt.Fprintf(w, "%s (model %s, %s, %s)\n", md.Name, md.ID, md.Family, md.Kind)
	if md.Note != "" {
		fmt.Fprintf(w, "  %s\n", md.Note)
	}
	fmt.Fprintln(w)
	line := func(label, text string) {
		if text != "" {
			fmt.Fprintf(w, "  %-22s %s\n", label+":", text)
		}
	}
	line("Form", long(md.Form, str))
	line("Keypad", long(md.Keypad, str))
	line("Radios", long(md.Radios, radios))
	line("SmartKey hole", long(md.SmartKeyHole, yesNo))
	line("Keyway", long(md.Keyway, str))
	line("Pins", long(md.Pins, itoa))
	line("Depth 7", long(md.Depth7, yesNo))
	line("Master keyable", long(md.MasterKeyable, yesNo))
	line("Rekey needs a key", long(md.RekeyRequiresWorkingKey, yesNo))
	line("Keyway-free", long(md.KeywayFree, yesNo))
	line("User codes", long(md.MaxUserCodes, itoa))
	line("Shortest code", long(md.CodeMin, digits))
	line("Longest code", long(md.CodeMax, digits))
	line("Unique first digits", long(md.UniquePrefix, itoa))
	line("Forbidden prefixes", long(md.ForbiddenPrefixes, list))
	line("One-time codes", long(md.OneTimeCodes, yesNo))
	line("Fingerprints", long(md.Fingerprints, itoa))
	line("Programming", long(md.Programming, str))
	line("Programming timeout", long(md.ProgrammingTimeoutS, seconds))
	line("Wrong-code lockout", long(md.Lockout, lockout))
	line("Factory reset", long(md.Reset, str))
	line("Remote reset", long(md.RemoteReset, str))
	line("Device Reset Locally", long(md.DeviceResetLocally, yesNo))
	line("Door handing", long(md.DoorHanding, str))
	line("Batteries", long(md.Batteries, str))
	line("Auto-lock", long(md.AutoLockS, secondsList))
	line("Z-Wave ids", long(md.ZWave, zwaveIDs))
	line("Zigbee models", long(md.Zigbee, zigbeeIDs))
	line("Matter ids", long(md.Matter, matterIDs))

	if md.Kind == catalog.Electronic && v.Rules.MaxLength > 0 {
		fmt.Fprintf(w, "\nCode rules Latchkey applies: %d to %d digits", v.Rules.MinLength, v.Rules.MaxLength)
		if v.Rules.Capacity >= 0 {
			fmt.Fprintf(w, ", at most %d codes", v.Rules.Capacity)
		}
		if v.Rules.SameButtons {
			fmt.Fprint(w, ", five-button collisions")
		}
		if v.Rules.UniquePrefix > 0 {
			fmt.Fprintf(w, ", unique first %d digits", v.Rules.UniquePrefix)
		}
		if len(v.Rules.ForbiddenPrefixes) > 0 {
			fmt.Fprintf(w, ", no codes starting %s", strings.Join(v.Rules.ForbiddenPrefixes, " or "))
		}
		fmt.Fprintln(w, ".")
	}
	for _, id := range md.SequenceIDs() {
		if s := v.Sequences[id]; s != nil {
			writeSequence(w, s)
		}
	}
	fmt.Fprintln(w, "\nSources (docs/kwikset-facts.md §10):")
	tags := make([]string, 0, len(v.Sources))
	for tag := range v.Sources {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	for _, tag := range tags {
		s := v.Sources[tag]
		fmt.Fprintf(w, "  %-5s %-9s %s %s\n", tag, s.Class, s.Title, s.URL)
	}
}

func writeSequence(w io.Writer, s *catalog.Sequence) {
	fmt.Fprintf(w, "\n%s [%s: %s]\n", s.Name, s.Confidence, strings.Join(s.Sources, ", "))
	if s.Note != "" {
		fmt.Fprintf(w, "  %s\n", s.Note)
	}
	for i, st := range s.Steps {
		when := ""
		if st.When != "" {
			when = " (" + st.When + " locks only)"
		}
		fmt.Fprintf(w, "  %d. %s%s\n", i+1, st.Do, when)
		if st.Expect != "" {
			fmt.Fprintf(w, "     Expect: %s\n", st.Expect)
		}
		if st.Caution != "" {
			fmt.Fprintf(w, "     Caution: %s\n", st.Caution)
		}
		if st.Unconfirmed != "" {
			fmt.Fprintf(w, "     Unconfirmed: %s\n", st.Unconfirmed)
		}
	}
	if s.After != "" {
		fmt.Fprintf(w, "  Afterwards: %s\n", s.After)
	}
}

// short renders a fact for a table cell: the value, or "?" for unconfirmed.
func short[T any](f catalog.Fact[T], format func(T) string) string {
	switch {
	case f.Known:
		return format(f.Value)
	case f.IsZero():
		return "-"
	default:
		return "?"
	}
}

// long renders a fact with its confidence, sources and note, or what is assumed.
func long[T any](f catalog.Fact[T], format func(T) string) string {
	if f.IsZero() {
		return ""
	}
	if f.Known {
		s := fmt.Sprintf("%s  [%s: %s]", format(f.Value), f.Confidence, strings.Join(f.Sources, ", "))
		if f.Note != "" {
			s += " " + f.Note
		}
		return s
	}
	s := "unconfirmed. " + f.Note
	if f.Assumed != nil {
		s += fmt.Sprintf(" Latchkey assumes %s to be safe.", format(*f.Assumed))
	}
	return s
}

func str(s string) string { return s }
func itoa(n int) string   { return fmt.Sprint(n) }
func digits(n int) string {
	return fmt.Sprintf("%d digits", n)
}
func seconds(n int) string { return fmt.Sprintf("%d s", n) }
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
func list(s []string) string { return strings.Join(s, ", ") }
func radios(r []string) string {
	if len(r) == 0 {
		return "none"
	}
	return strings.Join(r, ", ")
}
func secondsList(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprintf("%d s", n)
	}
	return strings.Join(parts, ", ")
}
func lockout(l catalog.Lockout) string {
	return fmt.Sprintf("%d wrong codes within %d s lock the keypad for %d s", l.Attempts, l.WindowS, l.DurationS)
}
func zwaveIDs(ids []catalog.ZWaveID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "0x0090:" + id.Type + ":" + id.ID
	}
	return strings.Join(parts, ", ")
}
func zigbeeIDs(ids []catalog.ZigbeeID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		pin := "PIN codes"
		if !id.PINCodes {
			pin = "no PIN codes"
		}
		parts[i] = fmt.Sprintf("%s (%s)", id.Model, pin)
	}
	return strings.Join(parts, ", ")
}
func matterIDs(ids []catalog.MatterID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.VID + "/" + id.PID
	}
	return strings.Join(parts, ", ")
}

// identifyView is the JSON form of 'models identify'.
type identifyView struct {
	Answers    catalog.Answers     `json:"answers"`
	Candidates []catalog.Candidate `json:"candidates"`
}

func (m *Main) modelsIdentifyCommand() *cobra.Command {
	var a catalog.Answers
	cmd := &cobra.Command{
		Use:   "identify",
		Short: "Find your lock's model from what you can see on it",
		Long: `Find your lock's model from a few things you can see. On a terminal with no flags,
it asks; otherwise give what you know as flags and leave out what you don't.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if m.Interactive && !m.json && cmd.Flags().NFlag() == 0 {
				var err error
				if a, err = m.askAnswers(); err != nil {
					return err
				}
			}
			cands, err := m.Catalog.Identify(a)
			if err != nil {
				return err
			}
			if len(cands) == 0 {
				return latchkey.Errorf(latchkey.ENOTFOUND,
					"No Kwikset model in the catalog fits these answers. Check each answer; a mechanical lock without a SmartKey slot is a classic pin-tumbler lock, which a locksmith rekeys.")
			}
			return m.emit(identifyView{Answers: a, Candidates: cands}, func(w io.Writer) {
				fmt.Fprintln(w, "Most likely first:")
				for i, c := range cands {
					if i == 5 {
						fmt.Fprintf(w, "  … and %d more that fit less well.\n", len(cands)-5)
						break
					}
					fmt.Fprintf(w, "%d. %s (model %s), score %d\n", i+1, c.Name, c.ID, c.Score)
					for _, r := range c.Reasons {
						fmt.Fprintf(w, "     %s\n", r)
					}
				}
				fmt.Fprintln(w, "\nCheck the label inside the battery cover or on the box, then 'latchkey models show MODEL'.")
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&a.Keypad, "keypad", "", "keypad: "+strings.Join(catalog.KeypadChoices, ", "))
	f.StringVar(&a.Radio, "radio", "", "radio on the label: "+strings.Join(catalog.RadioChoices, ", "))
	f.StringVar(&a.SmartKeyHole, "smartkey-hole", "", "a small slot beside the keyway: yes or no")
	f.StringVar(&a.Handle, "handle", "", "handle: "+strings.Join(catalog.HandleChoices, ", "))
	return cmd
}

// identifyQuestions are what a person is asked to identify a lock: each with the name
// its answer has as evidence in an identify procedure, and its choices.
var identifyQuestions = []struct {
	name, question string
	choices        []string
}{
	{"keypad", "Keypad? (5-button: two digits on each button; kwikset-menu: digits plus a Kwikset-logo button)", catalog.KeypadChoices},
	{"radio", "Radio named on the label or box?", catalog.RadioChoices},
	{"smartkey_hole", "Is there a small slot beside the keyway (SmartKey)?", catalog.YesNoChoices},
	{"handle", "Handle?", catalog.HandleChoices},
}

// askAnswers asks the identification questions on the terminal. An empty answer means
// "don't know".
func (m *Main) askAnswers() (catalog.Answers, error) {
	in := bufio.NewScanner(m.Stdin)
	ask := func(question string, choices []string) (string, error) {
		for {
			fmt.Fprintf(m.Stdout, "%s [%s, or Enter if unsure] ", question, strings.Join(choices, "/"))
			if !in.Scan() {
				return "", in.Err()
			}
			ans := strings.ToLower(strings.TrimSpace(in.Text()))
			if ans == "" || slices.Contains(choices, ans) {
				return ans, nil
			}
			fmt.Fprintf(m.Stdout, "Please answer one of: %s.\n", strings.Join(choices, ", "))
		}
	}
	var a catalog.Answers
	dst := map[string]*string{"keypad": &a.Keypad, "radio": &a.Radio, "smartkey_hole": &a.SmartKeyHole, "handle": &a.Handle}
	for _, q := range identifyQuestions {
		var err error
		if *dst[q.name], err = ask(q.question, q.choices); err != nil {
			return a, fmt.Errorf("read answer: %w", err)
		}
	}
	fmt.Fprintln(m.Stdout)
	return a, nil
}
