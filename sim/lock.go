package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// Battery thresholds in millivolts for a 4×AA pack (facts §3.9, Z-Wave alarms 167-169).
const (
	FreshBatteryMV    = 6200 // four fresh alkaline AA cells
	LowBatteryMV      = 4800 // alarm 167: low battery
	CriticalBatteryMV = 4500 // alarm 168: critical
	// DeadBatteryMV is where the twin stops responding. Facts §3.9 names alarm 169 "too
	// low to operate" without a voltage; 4.2 V is the twin's assumption.
	DeadBatteryMV = 4200
)

// Drain per motor run, in millivolts. The facts give battery life (10 to 12 months at ten
// entries a day, facts §3.10) but no per-operation figure; these are the twin's
// assumptions, with a misaligned door costing several times more (K9: misalignment is
// "by far the most common" cause of drain).
const (
	drainPerRunMV     = 2
	drainMisalignedMV = 10
	motorTravel       = 800 * time.Millisecond
	entryIdleTimeout  = 5 * time.Second // an unfinished code entry is dropped after this
	mastercodeHold    = 5 * time.Second // facts §3.3: hold Program about 5 s
	resetHold         = 30 * time.Second
	fallbackTimeout   = 5 * time.Second // programming timeout where unconfirmed (909's, M1)
)

// DIP switch settings of a SmartCode lock (facts §3.9).
type DIP struct {
	LED      bool `yaml:"led"`       // switch 1: status LED blinks every 6 s
	AutoLock bool `yaml:"auto_lock"` // switch 2: relock 30 s after unlocking
	Audio    bool `yaml:"audio"`     // switch 3: beeps are heard only when on
	// Switch4 is not used on the 909/910 keypads, turns on SecureScreen on the 916 (K4,
	// M2), and is "Invert" on the Convert: set it when the status LED reports the
	// opposite state (K5, facts §3.6).
	Switch4 bool `yaml:"switch4"`
}

// LockOptions set up an electronic lock twin.
type LockOptions struct {
	Model string // catalog model id
	Radio string // which radio the lock has: one of the model's, or "" for none
	// Hub names the hub the lock joins (World.AddHub); empty means its radio's own.
	Hub        string
	BatteryMV  int            // 0 means fresh
	DIP        *DIP           // nil means LED and audio on, auto-lock off
	Codes      map[int]string // codes already in slots
	Mastercode string         // a Mastercode (913/914/916) already set
	ProgCode   string         // a programming code (Kwikset-button models) already set
	// SendsDeviceResetLocally says whether a factory reset tells the Z-Wave hub. Which
	// models do is unconfirmed (facts §4); nil takes the catalog's conservative "no".
	SendsDeviceResetLocally *bool
	// HandingDelay is how long after a reset door handing starts: "a few seconds" (facts
	// §3.5, unconfirmed); 0 means 5 s.
	HandingDelay time.Duration
	// TornWrites makes the firmware leave a half-written slot on power loss during a
	// code write; otherwise a write is atomic.
	TornWrites bool
	Misaligned bool
	Locked     bool // the bolt starts thrown
	// HandingReversed installs a Convert so that it takes the bolt's states the wrong
	// way round: its status LED, and what it reports, show the opposite of the bolt
	// until DIP switch 4 (Invert) is set (facts §3.6, K5). Convert only.
	HandingReversed bool
}

// slot is one user-code position.
type slot struct {
	code    string
	oneTime bool
}

// Lock is an electronic Kwikset lock: keypad, Program button, battery pack, DIP
// switches, bolt motor, code memory and radio, behaving as its catalog model does.
type Lock struct {
	w     *World
	name  string
	model *catalog.Model
	rules catalog.CodeRules
	style string // programming style (catalog.Program*)
	touch bool   // touchscreen feedback (X and checkmark) instead of LEDs
	keys  string // keypad kind, as known or assumed

	slots      []slot // index 0 is slot 1; allocated on first use
	mastercode string
	progCode   string
	disabled   bool // Kwikset-menu option 6: user codes disabled

	batteryIn bool
	mv        int
	lowSent   int // highest battery alarm sent: 0, 167, 168, 169
	dip       DIP
	autoAfter time.Duration // relock time set over Z-Wave (parameter 36); 0: the model's
	reversed  bool          // Convert installed with its handing the wrong way round

	bolt        string // locked, unlocked, jammed
	moving      bool
	doorOpen    bool
	misaligned  bool
	stuckBolt   bool
	handing     string // set, pending, failed
	handingWait time.Duration

	entry      []byte
	entryTimer *Timer
	wrong      []time.Time
	lockedOut  time.Time
	autoTimer  *Timer
	prog       *programming
	progTimer  *Timer

	programHeld  bool
	heldTimer    *Timer
	heldStage    string // "", mastercode-ready, reset-armed
	resetPending string // reset sequence waiting for the final Program press
	resetting    bool   // a reset is under way until its late confirmation (913)
	resetTimer   *Timer // fires the late confirmation
	bootHeld     bool   // Program was held while the battery went in

	radio      string
	hubName    string // LockOptions.Hub
	net        *membership
	awakeUntil time.Time     // Z-Wave: awake after a frame
	pollPhase  time.Duration // Zigbee: when in each poll interval the lock polls
	aPresses   []time.Time
	sendsDRL   bool
	radioDown  time.Time // radio-drop fault until then
	powerLoss  bool      // fault: the next code write loses power mid-write
	tornWrites bool
	tampered   bool // interior and exterior assemblies disconnected
}

type membership struct {
	hub  *Hub
	addr string
}

// programming is a keypad programming session in progress.
type programming struct {
	kind    string // position, add, mc-enable, mc-session, menu
	presses int    // Program presses (position-based)
	step    int
	buf     []byte
	first   string
	menu    byte
}

// AddLock adds an electronic lock twin of a catalog model.
func (w *World) AddLock(name string, opt LockOptions) (*Lock, error) {
	m, err := w.Catalog.Model(opt.Model)
	if err != nil {
		return nil, err
	}
	if m.Kind != catalog.Electronic {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The %s is mechanical; add it as a cylinder.", m.Name)
	}
	radios, _ := m.Radios.Get(nil)
	if opt.Radio != "" && !slices.Contains(radios, opt.Radio) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The %s has no %s radio in the catalog (it has: %v).", m.ID, opt.Radio, radios)
	}
	l := &Lock{
		w: w, name: name, model: m, rules: firmwareRules(m), batteryIn: true, mv: opt.BatteryMV,
		dip: DIP{LED: true, Audio: true}, bolt: "unlocked", handing: "set", radio: opt.Radio,
		mastercode: opt.Mastercode, progCode: opt.ProgCode, misaligned: opt.Misaligned,
		tornWrites: opt.TornWrites, handingWait: opt.HandingDelay, hubName: opt.Hub,
	}
	if opt.Hub != "" {
		if h := w.hubs[opt.Hub]; h == nil || h.radio != opt.Radio {
			return nil, latchkey.Errorf(latchkey.EINVALID, "No %s hub named %q for the lock to join; add it first (World.AddHub).", opt.Radio, opt.Hub)
		}
	}
	l.style, _ = m.Programming.Get(catalog.ProgramNone)
	l.keys, _ = m.Keypad.Get("")
	l.touch = l.keys == catalog.KeypadTouchscreen
	if l.mv == 0 {
		l.mv = FreshBatteryMV
	}
	if opt.Locked {
		l.bolt = "locked"
	}
	if opt.DIP != nil {
		l.dip = *opt.DIP
	}
	if opt.HandingReversed {
		if m.Family != "convert" {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Only the Convert has the Invert switch for a reversed handing (facts §3.6, K5); the %s does door handing itself.", m.ID)
		}
		l.reversed = true
	}
	if l.handingWait == 0 {
		l.handingWait = 5 * time.Second
	}
	l.sendsDRL, _ = m.DeviceResetLocally.Get(false)
	if opt.SendsDeviceResetLocally != nil {
		l.sendsDRL = *opt.SendsDeviceResetLocally
	}
	if opt.Radio == catalog.RadioZigbee {
		l.pollPhase = w.between(0, w.Radio.ZigbeePoll-time.Millisecond)
	}
	for s, code := range opt.Codes {
		if err := l.store(s, code, false); err != nil {
			return nil, fmt.Errorf("slot %d: %w", s, err)
		}
	}
	if err := w.add(name, l); err != nil {
		return nil, err
	}
	return l, nil
}

// firmwareRules are the code rules the lock itself enforces: the confirmed ones, the
// same-button comparison wherever the keypad may have five buttons, and the conservative
// capacity and length. Unique-prefix and forbidden-prefix rules apply only where the facts
// confirm them for the model; Latchkey's own checks apply them more widely (facts §3.2).
func firmwareRules(m *catalog.Model) catalog.CodeRules {
	r := m.Rules()
	if !m.UniquePrefix.Known {
		r.UniquePrefix = 0
	}
	if !m.ForbiddenPrefixes.Known {
		r.ForbiddenPrefixes = nil
	}
	return r
}

// Name returns the twin's name.
func (l *Lock) Name() string { return l.name }

// Model returns the lock's catalog model.
func (l *Lock) Model() *catalog.Model { return l.model }

func (l *Lock) log(kind, format string, args ...any) { l.w.log(l.name, kind, format, args...) }

// refuse records a physical refusal and returns it as a conflict.
func (l *Lock) refuse(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	l.log(KindRefuse, "%s", msg)
	return latchkey.Errorf(latchkey.ECONFLICT, "%s", msg)
}

// powered reports whether the lock has power enough to do anything.
func (l *Lock) powered() bool { return l.batteryIn && l.mv > DeadBatteryMV }

// capacity is the number of user-code slots: the catalog's, or its conservative
// assumption, or 30 where nothing is known.
func (l *Lock) capacity() int {
	if l.rules.Capacity >= 0 {
		return l.rules.Capacity
	}
	return 30
}

// codes returns the codes stored, in slot order, skipping one slot (0 for none).
func (l *Lock) codes(except int) []string {
	var out []string
	for i, s := range l.slots {
		if s.code != "" && i+1 != except {
			out = append(out, s.code)
		}
	}
	return out
}

// CodeCount returns how many slots hold a code.
func (l *Lock) CodeCount() int { return len(l.codes(0)) }

// store puts a code in a slot (1-based) under the model's rules. It never exceeds the
// capacity.
func (l *Lock) store(n int, code string, oneTime bool) error {
	if n < 1 || n > l.capacity() {
		return latchkey.Errorf(latchkey.EINVALID, "Slot %d is outside 1 to %d.", n, l.capacity())
	}
	others := l.codes(n)
	// The slot being overwritten does not count against the capacity.
	if check := l.rules.Check(code, others); !check.OK {
		return check.Err()
	}
	// On the Kwikset-button models the programming code cannot equal a user code, so no
	// user code may be the programming code either (facts §3.3).
	if l.style == catalog.ProgramMenu && l.progCode != "" && l.same(code, l.progCode) {
		return latchkey.Errorf(latchkey.EINVALID, "A user code cannot equal the programming code (facts §3.3).")
	}
	if l.slots == nil {
		l.slots = make([]slot, l.capacity())
	}
	l.slots[n-1] = slot{code: code, oneTime: oneTime}
	return nil
}

// duplicate reports whether code is already stored in a slot other than n, compared as
// the keypad compares codes (by buttons on a five-button keypad, facts §3.2).
func (l *Lock) duplicate(n int, code string) bool {
	if n < 1 || n > l.capacity() {
		return false
	}
	for i, s := range l.slots {
		if i+1 != n && s.code != "" && l.same(s.code, code) {
			return true
		}
	}
	return false
}

// freeSlot returns the lowest empty slot, or 0 when full.
func (l *Lock) freeSlot() int {
	for i := range l.capacity() {
		if l.slots == nil || l.slots[i].code == "" {
			return i + 1
		}
	}
	return 0
}

// slotOf returns the slot holding code (compared as the keypad compares), or 0.
func (l *Lock) slotOf(code string) int {
	for i, s := range l.slots {
		if s.code != "" && l.same(s.code, code) {
			return i + 1
		}
	}
	return 0
}

// same compares two codes as the keypad does: by buttons on a five-button keypad
// (facts §3.2, §8).
func (l *Lock) same(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if l.rules.SameButtons {
		return catalog.Buttons(a) == catalog.Buttons(b)
	}
	return a == b
}

// write stores a code as the firmware does, honouring an injected power loss: an atomic
// firmware keeps the old slot, a torn one leaves half a code behind. It reports whether
// the lock lost power.
func (l *Lock) write(n int, code string, oneTime bool) (lost bool, err error) {
	if l.powerLoss {
		l.powerLoss = false
		if l.tornWrites && n >= 1 && n <= l.capacity() {
			if l.slots == nil {
				l.slots = make([]slot, l.capacity())
			}
			l.slots[n-1] = slot{code: code[:len(code)/2] + strings.Repeat("?", len(code)-len(code)/2)}
			l.log(KindState, "power lost during the write of slot %d: the slot is torn (half written)", n)
		} else {
			l.log(KindState, "power lost during the write of slot %d: the firmware kept the old slot", n)
		}
		l.reboot()
		return true, nil
	}
	return false, l.store(n, code, oneTime)
}

// clearSlot empties a slot.
func (l *Lock) clearSlot(n int) {
	if n >= 1 && n <= len(l.slots) {
		l.slots[n-1] = slot{}
	}
}

// clearAll empties every slot.
func (l *Lock) clearAll() { l.slots = nil }

// reboot models a brief power loss: everything volatile is lost, codes are kept.
func (l *Lock) reboot() {
	l.cancelVolatile()
	l.log(KindState, "rebooted")
}

func (l *Lock) cancelVolatile() {
	l.entry, l.prog, l.wrong, l.lockedOut = nil, nil, nil, time.Time{}
	l.entryTimer.Stop()
	l.progTimer.Stop()
	l.autoTimer.Stop()
	l.heldTimer.Stop()
	l.resetTimer.Stop()
	l.heldStage, l.resetPending, l.resetting = "", "", false
}

// Signals (facts §3.9). Keypad models flash LEDs; touchscreens show an X or a checkmark.

func (l *Lock) beep(n int, long bool) {
	if !l.dip.Audio {
		return
	}
	switch {
	case long:
		l.log(KindBeep, "long beep")
	case n == 1:
		l.log(KindBeep, "1 beep")
	default:
		l.log(KindBeep, "%d beeps", n)
	}
}

func (l *Lock) flash(color string, n int) {
	if n == 1 {
		l.log(KindLED, "%s flash", color)
		return
	}
	l.log(KindLED, "%s ×%d", color, n)
}

// signal is one indication: LED flashes or a touchscreen symbol, and beeps.
type signal struct {
	led    string // LED colour, "" for none
	flashN int
	screen string // touchscreen symbol, "" for none
	beeps  int
	long   bool // one long beep
}

// Indications of facts §3.9 (909 keypad and 916 touchscreen alerts, K6/K8 for the
// Kwikset-button models), by what happened.
var (
	keypadSignals = map[string]signal{
		"ok":          {led: "green", flashN: 1, beeps: 1},
		"fail":        {led: "red", flashN: 3, beeps: 3},
		"wrong":       {led: "red", flashN: 3, beeps: 3},
		"no-codes":    {led: "red", flashN: 3, beeps: 3},
		"lockout":     {led: "red", flashN: 15, beeps: 15},
		"timeout":     {beeps: 2},
		"low-battery": {led: "red", flashN: 10, beeps: 10},
		"jam":         {led: "red", flashN: 1, beeps: 1},
		"menu":        {beeps: 2},
		"menu-code":   {led: "green", flashN: 1, beeps: 1},
	}
	touchSignals = map[string]signal{
		"ok":          {screen: "checkmark", beeps: 1},
		"fail":        {screen: "X ×3", beeps: 3},
		"wrong":       {screen: "X ×1", beeps: 1},
		"no-codes":    {screen: "X ×3", beeps: 3},
		"lockout":     {screen: "X ×15", beeps: 15},
		"timeout":     {screen: "X ×3", beeps: 3},
		"low-battery": {screen: "checkmark and lock flash together ×5", long: true},
		"jam":         {screen: "checkmark and lock alternate ×5", long: true},
	}
	menuSignals = map[string]signal{
		"ok":   {led: "green", flashN: 1, long: true},
		"fail": {led: "red", flashN: 3, beeps: 3},
	}
)

// feedback shows what the lock shows for what happened.
func (l *Lock) feedback(what string) {
	sig, ok := menuSignals[what]
	if !ok || l.style != catalog.ProgramMenu {
		sig, ok = keypadSignals[what]
		if t, tok := touchSignals[what]; l.touch && tok {
			sig, ok = t, true
		}
	}
	if !ok {
		return
	}
	if sig.led != "" {
		l.flash(sig.led, sig.flashN)
	}
	if sig.screen != "" {
		l.log(KindScreen, "%s", sig.screen)
	}
	if sig.beeps > 0 || sig.long {
		l.beep(sig.beeps, sig.long)
	}
}

// drain takes charge out of the battery and sends the battery alarms as the voltage
// crosses their thresholds (facts §3.9): 167 low, 168 critical, and 169 "too low to
// operate", which the lock sends as it stops, even when the voltage drops straight past
// the others.
func (l *Lock) drain(mv int) {
	l.mv = max(l.mv-mv, 0)
	if level := batteryAlarm(l.mv); level > l.lowSent {
		l.lowSent = level
		switch level {
		case 167:
			l.log(KindState, "battery low (%d mV)", l.mv)
			l.emit(Report{Event: latchkey.EventLowBattery, Detail: withAlarm("low: charge battery soon", l.alarmText(167)), BatteryMV: l.mv, Alarm: 167})
		case 168:
			l.log(KindState, "battery critical (%d mV)", l.mv)
			l.emit(Report{Event: latchkey.EventLowBattery, Detail: withAlarm("critical: charge battery now", l.alarmText(168)), BatteryMV: l.mv, Alarm: 168})
		case 169:
			l.lastGasp(Report{Event: latchkey.EventLowBattery, Detail: withAlarm("too low to operate", l.alarmText(169)), BatteryMV: l.mv, Alarm: 169})
		}
	}
	if l.mv <= DeadBatteryMV {
		l.log(KindState, "battery too low to operate (%d mV): the lock no longer responds", l.mv)
		l.cancelVolatile()
	}
}

// batteryAlarm is the battery alarm a voltage calls for: 0, 167, 168 or 169.
func batteryAlarm(mv int) int {
	switch {
	case mv <= DeadBatteryMV:
		return 169
	case mv <= CriticalBatteryMV:
		return 168
	case mv <= LowBatteryMV:
		return 167
	}
	return 0
}

// lastGasp sends the report a lock sends as its battery gives out: emit would hold it
// back, since the lock no longer counts as powered.
func (l *Lock) lastGasp(r Report) {
	if l.net == nil || !l.batteryIn || l.w.Now().Before(l.radioDown) {
		return
	}
	if l.radio != catalog.RadioZWave {
		r.Alarm = 0
	}
	l.net.hub.reply(l, l.net.addr, r)
}

// drive runs the bolt motor to lock or unlock it.
func (l *Lock) drive(lock bool, source latchkey.EventSource, slot int) {
	if !l.powered() || l.moving {
		return
	}
	want := "unlocked"
	if lock {
		want = "locked"
	}
	if l.bolt == want {
		return
	}
	l.moving = true
	cost := drainPerRunMV
	if l.misaligned {
		cost = drainMisalignedMV
	}
	jam := l.stuckBolt || (lock && l.binds())
	l.w.Clock.AfterFunc(motorTravel, func() {
		l.moving = false
		if !l.powered() {
			l.log(KindBolt, "stopped: power lost while the motor ran")
			return
		}
		if jam {
			l.bolt = "jammed"
			l.log(KindBolt, "jammed while %s", map[bool]string{true: "locking", false: "unlocking"}[lock])
			l.feedback("jam")
			jam := Report{Event: latchkey.EventJammed, Source: source}
			jam.Alarm = zwaveAlarm(jam)
			jam.Detail = l.alarmText(jam.Alarm)
			l.emit(jam)
			l.drain(cost * 2)
			return
		}
		l.bolt = want
		l.log(KindBolt, "%s (%s)", want, sourceText(source, slot))
		ev := latchkey.EventUnlocked
		if lock {
			ev = latchkey.EventLocked
		}
		l.emit(Report{Event: ev, Source: source, Slot: slot})
		l.drain(cost)
		if l.powered() && l.mv <= LowBatteryMV {
			l.feedback("low-battery")
		}
		if !lock {
			l.armAutoLock()
		}
	})
}

// binds reports whether a bolt thrown now would bind against the strike: the door is
// closed and out of line with it (facts §6: "reposition the strike").
func (l *Lock) binds() bool { return l.misaligned && !l.doorOpen }

func sourceText(s latchkey.EventSource, slot int) string {
	if s == latchkey.SourceKeypad && slot > 0 {
		return fmt.Sprintf("keypad, slot %d", slot)
	}
	if s == "" {
		return "unknown"
	}
	return string(s)
}

// armAutoLock relocks 30 s after an unlock when switch 2 is on, but never when a lock
// that takes codes has none stored (facts §3.7, §8: K4). The Convert holds no codes and
// relocks all the same (K5).
func (l *Lock) armAutoLock() {
	l.autoTimer.Stop()
	if !l.dip.AutoLock {
		return
	}
	if l.capacity() > 0 && l.CodeCount() == 0 {
		l.log(KindState, "auto-lock skipped: no user code is stored (facts §3.7)")
		return
	}
	l.autoTimer = l.w.Clock.AfterFunc(l.relockAfter(), func() { l.drive(true, latchkey.SourceAuto, 0) })
}

// relockAfter is the auto-lock time: set over Z-Wave (888 parameter 36), else the
// model's first (shortest) documented time, else 30 s (facts §3.7).
func (l *Lock) relockAfter() time.Duration {
	if l.autoAfter > 0 {
		return l.autoAfter
	}
	if opts, ok := l.model.AutoLockS.Get(nil); ok && len(opts) > 0 {
		return time.Duration(opts[0]) * time.Second
	}
	return 30 * time.Second
}

// emit sends an unsolicited report to the lock's hub, if it has one and can reach it. A
// Z-Wave lock's report carries its Kwikset alarm type (facts §3.11).
func (l *Lock) emit(r Report) {
	if l.net == nil || !l.powered() || l.w.Now().Before(l.radioDown) {
		return
	}
	if r.Alarm == 0 {
		r.Alarm = zwaveAlarm(r)
	}
	if l.radio != catalog.RadioZWave {
		r.Alarm = 0
	}
	if (r.Event == latchkey.EventLocked || r.Event == latchkey.EventUnlocked) && l.inverted() {
		// The Convert reports what it believes, which a reversed handing turns round.
		r.Event = map[latchkey.EventKind]latchkey.EventKind{latchkey.EventLocked: latchkey.EventUnlocked, latchkey.EventUnlocked: latchkey.EventLocked}[r.Event]
		r.Alarm = zwaveAlarm(r)
	}
	l.net.hub.reply(l, l.net.addr, r)
}

// alarmText names a Z-Wave alarm number in a report's detail; other radios do not send
// these numbers.
func (l *Lock) alarmText(n int) string {
	if l.radio != catalog.RadioZWave {
		return ""
	}
	return fmt.Sprintf("alarm %d", n)
}

// reachable reports whether a frame for addr on hub h gets to this lock.
func (l *Lock) reachable(h *Hub, addr string) bool {
	return l.powered() && l.net != nil && l.net.hub == h && l.net.addr == addr && !l.w.Now().Before(l.radioDown)
}

// handle answers a hub's command.
func (l *Lock) handle(cmd Command) Report {
	switch cmd.Op {
	case OpSetCode:
		if l.radio == catalog.RadioZWave && l.duplicate(cmd.Slot, cmd.Code) {
			// A Z-Wave lock answers a duplicate with alarm 113 (0x71), "duplicate PIN code"
			// (facts §3.2: NZ; SmartThings reads 34 and 113 as duplicates, ST1).
			l.log(KindState, "slot %d refused over the radio: the code is a duplicate (alarm 113)", cmd.Slot)
			return Report{Slot: cmd.Slot, Err: "duplicate PIN code (alarm 113, 0x71)", Alarm: 113}
		}
		lost, err := l.write(cmd.Slot, cmd.Code, false)
		if lost {
			return Report{silent: true}
		}
		if err != nil {
			return Report{Err: latchkey.ErrorMessage(err)}
		}
		l.log(KindState, "slot %d set over the radio", cmd.Slot)
		return Report{Slot: cmd.Slot}
	case OpClearCode:
		if cmd.Slot == 0 {
			l.clearAll()
			l.log(KindState, "all codes cleared over the radio")
			l.emit(Report{Event: latchkey.EventAllCodesDeleted, Detail: l.alarmText(32)})
			return Report{}
		}
		if cmd.Slot < 0 || cmd.Slot > l.capacity() {
			return Report{Err: fmt.Sprintf("slot %d is outside 1 to %d", cmd.Slot, l.capacity())}
		}
		l.clearSlot(cmd.Slot)
		l.log(KindState, "slot %d cleared over the radio", cmd.Slot)
		return Report{Slot: cmd.Slot}
	case OpGetCode:
		if cmd.Slot < 1 || cmd.Slot > l.capacity() {
			return Report{Err: fmt.Sprintf("slot %d is outside 1 to %d", cmd.Slot, l.capacity())}
		}
		r := Report{Slot: cmd.Slot, Status: "available"}
		if cmd.Slot <= len(l.slots) && l.slots[cmd.Slot-1].code != "" {
			r.Status = "enabled"
			// Matter PINs are write-only (protocols.md §3).
			if l.radio != catalog.RadioMatter {
				r.Code = l.slots[cmd.Slot-1].code
			}
		}
		return r
	case OpLock, OpUnlock:
		l.drive(cmd.Op == OpLock, latchkey.SourceRF, 0)
		return Report{}
	case OpGetStatus:
		return Report{Bolt: l.reportedBolt(), BatteryMV: l.mv}
	case OpAddCode:
		return l.addOverRadio(cmd.Code)
	case OpConfig:
		return l.configure(cmd.Param, cmd.Value)
	case OpPing:
		return Report{}
	}
	return Report{Err: "unknown command " + cmd.Op}
}

// Faults (issue: power loss during a write, a stuck bolt, misalignment, a radio drop, a
// reset behind the hub's back).

// FailNextWrite makes the next code write lose power half-way.
func (l *Lock) FailNextWrite() {
	l.powerLoss = true
	l.log(KindAction, "fault armed: power loss during the next code write (%s firmware)", map[bool]string{true: "torn-slot", false: "atomic"}[l.tornWrites])
}

// Tamper disconnects the exterior assembly from the interior one: the lock beeps
// continuously and sends a tamper alarm; the keypad is dead until the battery pack is
// taken out and put back with the cable reconnected (facts §3.9, 916 alerts, M2).
func (l *Lock) Tamper() {
	l.log(KindAction, "fault: exterior assembly disconnected")
	if !l.powered() {
		return
	}
	l.tampered = true
	l.cancelVolatile()
	if l.dip.Audio {
		l.log(KindBeep, "continuous beeping")
	}
	l.emit(Report{Event: latchkey.EventTamper, Detail: "interior assembly disconnected from exterior"})
}

// SetStuckBolt makes the bolt jam whenever the motor runs (or frees it).
func (l *Lock) SetStuckBolt(stuck bool) {
	l.stuckBolt = stuck
	l.log(KindAction, "fault: bolt %s", map[bool]string{true: "stuck", false: "freed"}[stuck])
}

// SetMisaligned sets whether the door and strike are out of line: locking may jam, and
// every run drains more (facts §3.10, §6).
func (l *Lock) SetMisaligned(bad bool) {
	l.misaligned = bad
	l.log(KindAction, "door %s", map[bool]string{true: "misaligned", false: "aligned"}[bad])
}

// DropRadio cuts the lock off the air for d.
func (l *Lock) DropRadio(d time.Duration) {
	l.radioDown = l.w.Now().Add(d)
	l.log(KindAction, "fault: radio drops for %s", d)
}

// SetBattery sets the battery voltage, as a fresh or a tired pack would.
func (l *Lock) SetBattery(mv int) {
	l.mv = mv
	// A better pack clears the alarms it is above, so that the next fall sends them again.
	l.lowSent = min(l.lowSent, batteryAlarm(mv))
	l.log(KindAction, "battery at %d mV", mv)
	l.drain(0)
}

// SetDIP sets the DIP switches.
func (l *Lock) SetDIP(d DIP) {
	four := l.dip.Switch4 != d.Switch4
	l.dip = d
	l.log(KindAction, "DIP switches: LED %v, auto-lock %v, audio %v, switch 4 %v", d.LED, d.AutoLock, d.Audio, d.Switch4)
	if !four {
		return
	}
	switch {
	case l.model.Family == "convert":
		l.log(KindState, "switch 4 (Invert): the lock now takes the bolt as %s (status LED %s)", l.reportedBolt(), l.statusLED())
	case l.model.ID == "916":
		l.log(KindState, "switch 4 (SecureScreen): recorded; the twin does not model the random digits (facts §3.9)")
	default:
		l.log(KindState, "switch 4 has no documented use on the %s: nothing changes (facts §3.9)", l.model.ID)
	}
}

// SetDoor opens or closes the door.
func (l *Lock) SetDoor(open bool) {
	l.doorOpen = open
	l.log(KindAction, "door %s", map[bool]string{true: "opened", false: "closed"}[open])
}

// ThumbTurn turns the inside thumbturn: it locks an unlocked bolt and unlocks a locked
// or jammed one, with no power needed.
func (l *Lock) ThumbTurn() {
	lock := l.bolt == "unlocked"
	if lock && (l.stuckBolt || l.binds()) {
		l.bolt = "jammed"
		l.log(KindBolt, "jammed while locking by hand")
		return
	}
	l.bolt = map[bool]string{true: "locked", false: "unlocked"}[lock]
	l.log(KindBolt, "%s by the thumbturn", l.bolt)
	ev := latchkey.EventUnlocked
	if lock {
		ev = latchkey.EventLocked
	}
	l.emit(Report{Event: ev, Source: latchkey.SourceManual})
	if !lock {
		l.armAutoLock()
	}
}

// Fields lists the names Field answers to.
func (l *Lock) Fields() []string {
	return []string{"bolt", "door", "battery", "power", "codes", "slot:N", "mode", "lockout", "mastercode",
		"progcode", "handing", "paired", "led", "user-codes", "tamper", "auto-lock", "switch4"}
}

// Field reads one piece of observable state.
func (l *Lock) Field(name string) (string, bool) {
	if n, ok := strings.CutPrefix(name, "slot:"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || i > l.capacity() {
			return "", false
		}
		if i <= len(l.slots) && l.slots[i-1].code != "" {
			return "set", true
		}
		return "empty", true
	}
	switch name {
	case "bolt":
		return l.bolt, true
	case "door":
		return map[bool]string{true: "open", false: "closed"}[l.doorOpen], true
	case "battery":
		return strconv.Itoa(l.mv), true
	case "power":
		switch {
		case !l.batteryIn:
			return "no battery", true
		case !l.powered():
			return "dead", true
		}
		return "on", true
	case "codes":
		return strconv.Itoa(l.CodeCount()), true
	case "mode":
		switch {
		case l.resetting:
			return "resetting", true
		case l.prog != nil:
			return "programming", true
		case l.w.Now().Before(l.lockedOut):
			return "locked out", true
		}
		return "normal", true
	case "lockout":
		if left := l.lockedOut.Sub(l.w.Now()); left > 0 {
			return left.Round(time.Second).String(), true
		}
		return "none", true
	case "mastercode":
		return setText(l.mastercode), true
	case "progcode":
		return setText(l.progCode), true
	case "handing":
		return l.handing, true
	case "paired":
		if l.net == nil {
			return "no", true
		}
		return l.net.hub.radio + " " + l.net.addr, true
	case "led":
		return l.statusLED(), true
	case "tamper":
		return map[bool]string{true: "disconnected", false: "ok"}[l.tampered], true
	case "user-codes":
		return map[bool]string{true: "disabled", false: "enabled"}[l.disabled], true
	case "auto-lock":
		if !l.dip.AutoLock {
			return "off", true
		}
		return l.relockAfter().String(), true
	case "switch4":
		return map[bool]string{true: "on", false: "off"}[l.dip.Switch4], true
	}
	return "", false
}

func setText(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// statusLED is what the status LED shows (facts §3.9, K4).
func (l *Lock) statusLED() string {
	switch {
	case !l.powered():
		return "off"
	case l.handing == "failed":
		return "solid red"
	case l.mv <= LowBatteryMV:
		return "blinking red"
	case !l.dip.LED:
		return "off"
	case l.reportedBolt() == "locked":
		return "blinking amber"
	default:
		return "blinking green"
	}
}
