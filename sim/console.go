package sim

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
)

// Line is one parsed console or scenario command: an optional twin ("front: press 1234
// lock"), a verb and its arguments.
type Line struct {
	Twin string
	Verb string
	Args []string
}

// maxLine bounds a command line.
const maxLine = 500

// ParseLine splits a command line. It checks the shape only; Exec checks the meaning.
func ParseLine(s string) (Line, error) {
	if len(s) > maxLine {
		return Line{}, latchkey.Errorf(latchkey.EINVALID, "A command is at most %d characters.", maxLine)
	}
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	var l Line
	if head, rest, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(head, " \t") {
		l.Twin, s = head, strings.TrimSpace(rest)
		if l.Twin == "" {
			return Line{}, latchkey.Errorf(latchkey.EINVALID, "A twin name comes before the colon, as in 'front: turn 90 cw'.")
		}
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if l.Twin != "" {
			return Line{}, latchkey.Errorf(latchkey.EINVALID, "Say what %s should do after the colon.", l.Twin)
		}
		return Line{}, nil
	}
	l.Verb, l.Args = strings.ToLower(fields[0]), fields[1:]
	return l, nil
}

// Console runs command lines against a world: the interactive console, and the steps
// of a scenario.
type Console struct {
	W       *World
	Current string    // the twin commands without a "name:" apply to
	Out     io.Writer // where show, twins and help print

	mark   int  // trace assertions look at the entries from here on (set by "mark")
	marked bool // mark was used
}

// ConsoleHelp lists the commands.
const ConsoleHelp = `Commands (prefix a twin's name and a colon, or pick one with 'use NAME'):
  advance DURATION            move virtual time (30s, 2m, 1h30m)
  use NAME | twins | show [NAME | hub RADIO] | help
  expect NAME FIELD VALUE     fail unless the twin's field reads VALUE
  expect hub RADIO FIELD VALUE          mode, members, member:TWIN, alarms, alarms:TWIN, alarm:N
  mark                        trace assertions look only at what happens from here on
  expect seen|unseen WHO TEXT           an entry of WHO (a twin, RADIO-hub or *) containing TEXT
  expect order WHO TEXT then WHO TEXT [then ...]   such entries, in this order
  hub RADIO mode inclusion|exclusion|permit-join|idle [DURATION]
  hub RADIO set-code|clear-code|get-code TWIN SLOT [CODE]
  hub RADIO lock|unlock|status TWIN     hub RADIO members
  hub wifi|ble add-code TWIN CODE       the lock picks the lowest free slot
  hub zwave config TWIN PARAMETER VALUE   hub zwave remove-failed TWIN|NODE
  hub wifi|ble|matter delete TWIN       delete the lock in the app (or the fabric)
SmartKey cylinder:
  insert key BITTING [partly] [inside|outside]   remove key
  insert tool [partly]   remove tool   turn DEGREES cw|ccw [force]   recover BITTING
  door open|closed   thumbturn
Electronic lock:
  press KEYS...  (digits, lock, kwikset, program)   hold program   release program
  battery out|in|MILLIVOLTS   dip led|auto-lock|audio|4 on|off   door open|closed
  thumbturn   button a   pair   misalign on|off
  fault write | fault stuck-bolt on|off | fault radio-drop DURATION | fault reset-behind-hub
  fault tamper`

// Exec runs one command line.
func (c *Console) Exec(s string) error {
	l, err := ParseLine(s)
	if err != nil || l.Verb == "" {
		return err
	}
	switch l.Verb {
	case "advance", "wait":
		d, err := durationArg(l.Args, 0)
		if err != nil {
			return err
		}
		if d > 31*24*time.Hour {
			return latchkey.Errorf(latchkey.EINVALID, "Advance at most 31 days at a time.")
		}
		c.W.Advance(d)
		return nil
	case "use":
		if len(l.Args) != 1 {
			return usage("use NAME")
		}
		if _, err := c.W.Twin(l.Args[0]); err != nil {
			return err
		}
		c.Current = l.Args[0]
		return nil
	case "twins":
		for _, n := range c.W.Names() {
			t, _ := c.W.Twin(n)
			fmt.Fprintf(c.out(), "%s (%s)\n", n, describeTwin(t))
		}
		return nil
	case "help":
		fmt.Fprintln(c.out(), ConsoleHelp)
		return nil
	case "show":
		return c.show(l)
	case "expect":
		return c.expect(l.Args)
	case "mark":
		if len(l.Args) != 0 {
			return usage("mark")
		}
		c.mark, c.marked = len(c.W.Trace()), true
		c.W.log("", KindExpect, "mark: trace assertions from here on")
		return nil
	case "hub":
		return c.hub(l.Args)
	}
	name := l.Twin
	if name == "" {
		name = c.Current
	}
	if name == "" {
		return latchkey.Errorf(latchkey.EINVALID, "Which twin? Prefix its name, as in 'front: %s', or pick one with 'use NAME'.", l.Verb)
	}
	t, err := c.W.Twin(name)
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case *Cylinder:
		err = execCylinder(t, l)
	case *Lock:
		err = execLock(t, l)
	}
	// A physical refusal (a key that does not turn, a battery already out) is behaviour
	// the twin has recorded in the trace, not a mistake in the command.
	if latchkey.ErrorCode(err) == latchkey.ECONFLICT {
		return nil
	}
	return err
}

func (c *Console) out() io.Writer {
	if c.Out == nil {
		return io.Discard
	}
	return c.Out
}

func usage(form string) error {
	return latchkey.Errorf(latchkey.EINVALID, "Usage: %s.", form)
}

func describeTwin(t Twin) string {
	switch t := t.(type) {
	case *Cylinder:
		return "SmartKey cylinder, key " + string(t.bitting)
	case *Lock:
		s := t.model.Name
		if t.radio != "" {
			s += ", " + t.radio
		}
		return s
	}
	return "twin"
}

func (c *Console) show(l Line) error {
	if len(l.Args) > 0 && l.Args[0] == "hub" {
		h, err := c.hubArg(l.Args[1:])
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out(), "%s hub at %s\n", h.radio, clockText(c.W.Elapsed()))
		fields := []string{"mode", "members", "alarms"}
		for _, m := range h.Members() {
			fields = append(fields, "member:"+m.Address)
		}
		for _, f := range fields {
			v, _ := h.Field(f)
			fmt.Fprintf(c.out(), "  %-11s %s\n", f, v)
		}
		return nil
	}
	name := c.Current
	if len(l.Args) > 0 {
		name = l.Args[0]
	}
	t, err := c.W.Twin(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out(), "%s (%s) at %s\n", name, describeTwin(t), clockText(c.W.Elapsed()))
	for _, f := range t.Fields() {
		if v, ok := t.Field(f); ok {
			fmt.Fprintf(c.out(), "  %-11s %s\n", f, v)
		}
	}
	return nil
}

func (c *Console) expect(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "hub":
			return c.expectHub(args[1:])
		case "seen", "unseen", "order":
			return c.expectTrace(args[0], args[1:])
		}
	}
	if len(args) < 3 {
		return usage("expect NAME FIELD VALUE")
	}
	t, err := c.W.Twin(args[0])
	if err != nil {
		return err
	}
	got, ok := t.Field(args[1])
	if !ok {
		return latchkey.Errorf(latchkey.EINVALID, "%s has no field %q; it has: %s.", args[0], args[1], strings.Join(t.Fields(), ", "))
	}
	want := strings.Join(args[2:], " ")
	if got != want {
		return latchkey.Errorf(latchkey.ECONFLICT, "Expected %s %s to be %q, but it is %q.", args[0], args[1], want, got)
	}
	c.W.log(args[0], KindExpect, "%s is %s", args[1], want)
	return nil
}

// hubArg returns the hub a command's first argument names.
func (c *Console) hubArg(args []string) (*Hub, error) {
	if len(args) == 0 {
		return nil, usage("hub RADIO ...")
	}
	if !slices.Contains(Radios, args[0]) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Unknown radio %q; use zwave, zigbee, wifi, ble or matter.", args[0])
	}
	return c.W.Hub(args[0]), nil
}

func (c *Console) hub(args []string) error {
	if len(args) < 2 {
		return usage("hub RADIO VERB ...")
	}
	h, err := c.hubArg(args)
	if err != nil {
		return err
	}
	verb, rest := args[1], args[2:]
	switch verb {
	case "mode":
		if len(rest) < 1 || len(rest) > 2 {
			return usage("hub RADIO mode inclusion|exclusion|permit-join|idle [DURATION]")
		}
		d, err := durationArg(rest, 1)
		if err != nil && len(rest) == 2 {
			return err
		}
		return h.SetMode(rest[0], d)
	case "members":
		members := h.Members()
		if len(members) == 0 {
			h.log("members: none")
		}
		for _, m := range members {
			ghost := ""
			if m.Ghost {
				ghost = " (ghost: it left without telling the hub)"
			}
			h.log("member %s: %s%s", m.Address, m.Twin, ghost)
		}
		return nil
	}
	if len(rest) < 1 {
		return usage("hub RADIO " + verb + " TWIN ...")
	}
	addr, ok := h.lookup(rest[0], verb == "remove-failed")
	if !ok {
		return latchkey.Errorf(latchkey.ENOTFOUND, "The %s hub has no member %q; pair it first.", args[0], rest[0])
	}
	cmd := Command{}
	switch verb {
	case "remove-failed":
		if len(rest) != 1 {
			return usage("hub zwave remove-failed TWIN|NODE")
		}
		return h.RemoveFailed(addr)
	case "delete":
		if len(rest) != 1 {
			return usage("hub wifi|ble|matter delete TWIN")
		}
		return h.Delete(addr)
	case "add-code":
		if len(rest) != 2 {
			return usage("hub wifi|ble add-code TWIN CODE")
		}
		if h.radio != "wifi" && h.radio != "ble" {
			return latchkey.Errorf(latchkey.EINVALID, "Only the Kwikset app (wifi, ble) lets the lock choose the slot; the %s hub names it: use set-code.", h.radio)
		}
		cmd.Op, cmd.Code = OpAddCode, rest[1]
	case "config":
		if len(rest) != 3 {
			return usage("hub zwave config TWIN PARAMETER VALUE")
		}
		if h.radio != "zwave" {
			return latchkey.Errorf(latchkey.EINVALID, "Configuration parameters are Z-Wave's; the %s hub has none.", h.radio)
		}
		p, errP := strconv.Atoi(rest[1])
		v, errV := strconv.Atoi(rest[2])
		if errP != nil || errV != nil || p < 1 || p > 255 || v < -128 || v > 65535 {
			return latchkey.Errorf(latchkey.EINVALID, "A Z-Wave parameter is a number from 1 to 255 and its value a whole number, not %q and %q.", rest[1], rest[2])
		}
		cmd.Op, cmd.Param, cmd.Value = OpConfig, p, v
	case "set-code", "clear-code", "get-code":
		want := 2
		if verb == "set-code" {
			want = 3
		}
		if len(rest) != want {
			return usage("hub RADIO set-code TWIN SLOT CODE | clear-code TWIN SLOT | get-code TWIN SLOT")
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 0 || n > 1000 {
			return latchkey.Errorf(latchkey.EINVALID, "Slot %q is not a slot number.", rest[1])
		}
		cmd.Op, cmd.Slot = map[string]string{"set-code": OpSetCode, "clear-code": OpClearCode, "get-code": OpGetCode}[verb], n
		if verb == "set-code" {
			cmd.Code = rest[2]
		}
	case "lock", "unlock", "status":
		cmd.Op = map[string]string{"lock": OpLock, "unlock": OpUnlock, "status": OpGetStatus}[verb]
	default:
		return latchkey.Errorf(latchkey.EINVALID, "Unknown hub command %q.", verb)
	}
	h.Send(addr, cmd, func(r Report) {
		if cmd.Op == OpAddCode && r.Err == "" && r.Slot > 0 {
			h.log("#%d the lock chose slot %d", r.CommandID, r.Slot)
		}
		if r.Status != "" {
			h.log("#%d slot %d is %s", r.CommandID, r.Slot, r.Status)
		}
		if r.Bolt != "" {
			h.log("#%d bolt %s, battery %d mV", r.CommandID, r.Bolt, r.BatteryMV)
		}
	})
	return nil
}

func durationArg(args []string, i int) (time.Duration, error) {
	if len(args) <= i {
		return 0, usage("a duration such as 30s or 2m")
	}
	d, err := time.ParseDuration(args[i])
	if err != nil || d < 0 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%q is not a duration; write one such as 500ms, 30s or 2m.", args[i])
	}
	return d, nil
}

func onOff(args []string, i int) (bool, error) {
	if len(args) <= i {
		return false, usage("on or off")
	}
	switch args[i] {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, latchkey.Errorf(latchkey.EINVALID, "Say on or off, not %q.", args[i])
}

func execCylinder(c *Cylinder, l Line) error {
	a := l.Args
	switch {
	case l.Verb == "door" && len(a) == 1 && (a[0] == "open" || a[0] == "closed"):
		return c.SetDoor(a[0] == "open")
	case l.Verb == "thumbturn" && len(a) == 0:
		return c.ThumbTurn()
	case l.Verb == "insert" && len(a) >= 1 && a[0] == "tool":
		return c.InsertTool(!slices.Contains(a[1:], "partly"))
	case l.Verb == "insert" && len(a) >= 2 && a[0] == "key":
		side := Outside
		if slices.Contains(a[2:], Inside) {
			side = Inside
		}
		return c.InsertKey(keying.Bitting(a[1]), !slices.Contains(a[2:], "partly"), side)
	case l.Verb == "remove" && len(a) == 1 && a[0] == "key":
		return c.RemoveKey()
	case l.Verb == "remove" && len(a) == 1 && a[0] == "tool":
		return c.RemoveTool()
	case l.Verb == "turn" && len(a) >= 2:
		deg, err := strconv.Atoi(strings.TrimSuffix(a[0], "°"))
		if err != nil || (a[1] != "cw" && a[1] != "ccw") {
			return usage("turn DEGREES cw|ccw [force]")
		}
		return c.Turn(deg, a[1] == "cw", slices.Contains(a[2:], "force"))
	case l.Verb == "recover" && len(a) == 1:
		return c.Recover(keying.Bitting(a[0]))
	}
	return latchkey.Errorf(latchkey.EINVALID, "A SmartKey cylinder does not understand %q; try help.", strings.TrimSpace(l.Verb+" "+strings.Join(a, " ")))
}

func execLock(t *Lock, l Line) error {
	a := l.Args
	switch l.Verb {
	case "press":
		if len(a) == 0 {
			return usage("press KEYS (digits, lock, kwikset, program)")
		}
		for _, tok := range a {
			if err := pressToken(t, strings.ToLower(tok)); err != nil {
				return err
			}
		}
		return nil
	case "hold", "release":
		if len(a) != 1 || a[0] != "program" {
			return usage(l.Verb + " program")
		}
		if l.Verb == "hold" {
			return t.HoldProgram()
		}
		return t.ReleaseProgram()
	case "battery":
		if len(a) != 1 {
			return usage("battery out|in|MILLIVOLTS")
		}
		switch a[0] {
		case "out":
			return t.RemoveBattery()
		case "in":
			return t.InsertBattery()
		}
		mv, err := strconv.Atoi(a[0])
		if err != nil || mv < 0 || mv > 7000 {
			return latchkey.Errorf(latchkey.EINVALID, "Battery takes out, in, or a voltage in millivolts from 0 to 7000.")
		}
		t.SetBattery(mv)
		return nil
	case "dip":
		if len(a) != 2 {
			return usage("dip led|auto-lock|audio|4 on|off (or switches 1 to 4 by number)")
		}
		on, err := onOff(a, 1)
		if err != nil {
			return err
		}
		d := t.dip
		switch a[0] {
		case "led", "1":
			d.LED = on
		case "auto-lock", "2":
			d.AutoLock = on
		case "audio", "3":
			d.Audio = on
		case "4", "invert", "secure-screen":
			d.Switch4 = on
		default:
			return usage("dip led|auto-lock|audio|4 on|off (or switches 1 to 4 by number)")
		}
		t.SetDIP(d)
		return nil
	case "door":
		if len(a) != 1 || (a[0] != "open" && a[0] != "closed") {
			return usage("door open|closed")
		}
		t.SetDoor(a[0] == "open")
		return nil
	case "misalign":
		on, err := onOff(a, 0)
		if err != nil {
			return err
		}
		t.SetMisaligned(on)
		return nil
	case "thumbturn":
		t.ThumbTurn()
		return nil
	case "button":
		if len(a) != 1 || strings.ToLower(a[0]) != "a" {
			return usage("button a")
		}
		return t.PressA()
	case "pair":
		return t.Pair()
	case "fault":
		return lockFault(t, a)
	}
	return latchkey.Errorf(latchkey.EINVALID, "An electronic lock does not understand %q; try help.", strings.TrimSpace(l.Verb+" "+strings.Join(a, " ")))
}

func pressToken(t *Lock, tok string) error {
	switch tok {
	case "program":
		return t.PressProgram()
	case KeyLock, KeyKwikset:
		return t.Press(tok)
	}
	if tok == "" || strings.Trim(tok, "0123456789") != "" {
		return latchkey.Errorf(latchkey.EINVALID, "Press digits, lock, kwikset or program, not %q.", tok)
	}
	for i := range len(tok) {
		if err := t.Press(tok[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

func lockFault(t *Lock, a []string) error {
	if len(a) == 0 {
		return usage("fault write | stuck-bolt on|off | radio-drop DURATION | reset-behind-hub | tamper")
	}
	switch a[0] {
	case "write":
		t.FailNextWrite()
	case "stuck-bolt":
		on, err := onOff(a, 1)
		if err != nil {
			return err
		}
		t.SetStuckBolt(on)
	case "radio-drop":
		d, err := durationArg(a, 1)
		if err != nil {
			return err
		}
		t.DropRadio(d)
	case "reset-behind-hub":
		t.ResetBehindHub()
	case "tamper":
		t.Tamper()
	default:
		return usage("fault write | stuck-bolt on|off | radio-drop DURATION | reset-behind-hub | tamper")
	}
	return nil
}
