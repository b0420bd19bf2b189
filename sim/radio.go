package sim

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// RadioConfig is the latency and loss model (docs/performance.md §1). Zero fields take
// the defaults noted.
type RadioConfig struct {
	// ZWaveBeam is the first frame to a sleeping (FLiRS) Z-Wave lock: 1.05 to 1.37 s.
	ZWaveBeamMin, ZWaveBeamMax time.Duration
	// ZWaveAwake is a frame while the lock is awake: 10 to 70 ms.
	ZWaveAwakeMin, ZWaveAwakeMax time.Duration
	// ZWaveAwakeWindow is how long a lock stays awake after a frame: 3 s (an assumption;
	// how long a FLiRS lock stays awake is device-specific, performance.md §6).
	ZWaveAwakeWindow time.Duration
	// ZigbeePoll is a sleepy Zigbee lock's poll interval: a frame waits for the next
	// poll. Default 5 s, the common long-poll default.
	ZigbeePoll time.Duration
	// ZigbeeHop is one frame's time on the air and through the parent: 10 to 50 ms.
	ZigbeeHopMin, ZigbeeHopMax time.Duration
	// IP is a command's way through the cloud or a bridge for Wi-Fi, Bluetooth and
	// Matter locks: 100 to 400 ms (an assumption; no measured number was found).
	IPMin, IPMax time.Duration
	// Timeout is how long the hub waits for an answer before it gives up: 10 s.
	Timeout time.Duration
	// Loss, Duplicate and Reorder are per-frame probabilities: lost, delivered twice,
	// or held back long enough that a later frame may overtake it.
	Loss, Duplicate, Reorder float64
}

func (c RadioConfig) withDefaults() RadioConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ZWaveBeamMin, 1050*time.Millisecond)
	def(&c.ZWaveBeamMax, 1370*time.Millisecond)
	def(&c.ZWaveAwakeMin, 10*time.Millisecond)
	def(&c.ZWaveAwakeMax, 70*time.Millisecond)
	def(&c.ZWaveAwakeWindow, 3*time.Second)
	def(&c.ZigbeePoll, 5*time.Second)
	def(&c.ZigbeeHopMin, 10*time.Millisecond)
	def(&c.ZigbeeHopMax, 50*time.Millisecond)
	def(&c.IPMin, 100*time.Millisecond)
	def(&c.IPMax, 400*time.Millisecond)
	def(&c.Timeout, 10*time.Second)
	return c
}

// Operations a hub sends a lock.
const (
	OpSetCode   = "set_code"   // Slot, Code
	OpClearCode = "clear_code" // Slot; 0 clears every slot
	OpGetCode   = "get_code"   // Slot
	OpLock      = "lock"
	OpUnlock    = "unlock"
	OpGetStatus = "get_status" // bolt, battery
	// OpAddCode sends a code without a slot: the lock stores it in its lowest free slot
	// and answers with the slot, as the Kwikset app's locks do (facts §3.4 D, MCP).
	OpAddCode = "add_code" // Code
	// OpConfig sets a Z-Wave configuration parameter (facts §3.5 40, §3.6 10, §3.7 36).
	OpConfig = "config" // Param, Value
	// OpPing is a no-operation frame: the controller's test of whether a node answers
	// before it removes it as failed (facts §4).
	OpPing = "ping"
)

// Command is what a hub sends a lock.
type Command struct {
	ID    uint64 `json:"id"`
	Op    string `json:"op"`
	Slot  int    `json:"slot,omitempty"`
	Code  string `json:"-"`               // never traced
	Param int    `json:"param,omitempty"` // config: the parameter number
	Value int    `json:"value,omitempty"` // config: the value written
}

// Report is what a lock sends its hub: the answer to a command (CommandID set), or an
// unsolicited event (Event set).
type Report struct {
	CommandID uint64               `json:"command_id,omitempty"`
	Err       string               `json:"error,omitempty"` // why the command failed
	Event     latchkey.EventKind   `json:"event,omitempty"`
	Source    latchkey.EventSource `json:"source,omitempty"`
	Slot      int                  `json:"slot,omitempty"`
	Code      string               `json:"-"`                // get_code's answer; never traced
	Status    string               `json:"status,omitempty"` // get_code: available/enabled
	Bolt      string               `json:"bolt,omitempty"`   // get_status
	BatteryMV int                  `json:"battery_mv,omitempty"`
	Detail    string               `json:"detail,omitempty"`
	// Alarm is the Kwikset Z-Wave alarm type the report carries (facts §3.11, §3.9,
	// §3.2, §3.8); only Z-Wave locks send these numbers, so it is 0 on other radios.
	Alarm int `json:"alarm,omitempty"`

	silent bool // the lock sends nothing back (it lost power while handling the command)
}

// Member is a lock as its hub lists it.
type Member struct {
	Address string `json:"address"`
	Twin    string `json:"twin"`
	// Ghost is set when the hub still lists a lock that has left (it was reset without
	// telling the hub): commands to it go unanswered (facts §4).
	Ghost bool `json:"ghost,omitempty"`
}

// Hub modes.
const (
	HubIdle      = "idle"
	HubInclusion = "inclusion"   // Z-Wave add mode
	HubExclusion = "exclusion"   // Z-Wave remove mode
	HubPermit    = "permit-join" // Zigbee
)

// Hub is the controller side of one radio: a Z-Wave controller, a Zigbee coordinator,
// or the cloud or Matter fabric of the IP locks. It sends one frame at a time, as a
// Z-Wave controller does (performance.md §1.1).
type Hub struct {
	w         *World
	name      string // the world's hub of a radio is named after it
	radio     string
	downUntil time.Time // restarting: it answers nothing until then
	mode      string
	modeTimer *Timer
	members   map[string]*Member
	locks     map[string]*Lock // by address
	nextNode  int
	nextCmd   uint64
	busyUntil time.Time
	pending   map[uint64]func(Report)
	listeners []func(addr string, r Report)
	alarms    []hubAlarm // every alarm number received, in order
}

// hubAlarm is an alarm number a hub received, and from which member.
type hubAlarm struct {
	addr, twin string
	n          int
}

// Hub returns the world's hub for a radio (zwave, zigbee, wifi, ble or matter).
func (w *World) Hub(radio string) *Hub {
	if h := w.hubs[radio]; h != nil {
		return h
	}
	return w.newHub(radio, radio)
}

func (w *World) newHub(name, radio string) *Hub {
	h := &Hub{w: w, name: name, radio: radio, mode: HubIdle, members: map[string]*Member{}, locks: map[string]*Lock{},
		nextNode: 2, pending: map[uint64]func(Report){}}
	w.hubs[name] = h
	w.hubOrder = append(w.hubOrder, name)
	return h
}

// AddHub adds a further hub of a radio, for a world of many homes, each with its own
// controller: locks join it when LockOptions.Hub names it. Each hub sends one frame at
// a time, independently of the others.
func (w *World) AddHub(name, radio string) (*Hub, error) {
	if !slices.Contains(Radios, radio) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Unknown radio %q; use one of %v.", radio, Radios)
	}
	if name == "" || slices.Contains(Radios, name) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A further hub needs a name of its own (not empty, not a radio's): %q.", name)
	}
	if w.hubs[name] != nil {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "A hub named %q already exists.", name)
	}
	return w.newHub(name, radio), nil
}

// Hubs returns the world's hubs in the order they were made.
func (w *World) Hubs() []*Hub {
	out := make([]*Hub, 0, len(w.hubOrder))
	for _, name := range w.hubOrder {
		out = append(out, w.hubs[name])
	}
	return out
}

// Name returns the hub's name: its radio's for the world's own hub of that radio.
func (h *Hub) Name() string { return h.name }

// Radio returns the hub's radio.
func (h *Hub) Radio() string { return h.radio }

func (h *Hub) log(format string, args ...any) { h.w.log(h.name+"-hub", KindHub, format, args...) }

// Mode returns the hub's mode.
func (h *Hub) Mode() string { return h.mode }

// SetMode puts the hub in inclusion, exclusion or permit-join mode for d (60 s if 0),
// or back to idle.
func (h *Hub) SetMode(mode string, d time.Duration) error {
	switch mode {
	case HubIdle, HubInclusion, HubExclusion, HubPermit:
	default:
		return latchkey.Errorf(latchkey.EINVALID, "Unknown hub mode %q; use idle, inclusion, exclusion or permit-join.", mode)
	}
	h.modeTimer.Stop()
	h.mode = mode
	h.log("mode %s", mode)
	if mode != HubIdle {
		if d <= 0 {
			d = time.Minute
		}
		h.modeTimer = h.w.Clock.AfterFunc(d, func() { h.mode = HubIdle; h.log("mode idle (timed out)") })
	}
	return nil
}

// Members lists the locks the hub knows, by address.
func (h *Hub) Members() []Member {
	out := make([]Member, 0, len(h.members))
	for _, m := range h.members {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// Listen calls f with every report the hub receives, unsolicited events included.
func (h *Hub) Listen(f func(addr string, r Report)) { h.listeners = append(h.listeners, f) }

// ListenHubs calls f with every report any hub receives, hubs added later included.
func (w *World) ListenHubs(f func(h *Hub, addr string, r Report)) {
	w.hubListeners = append(w.hubListeners, f)
}

// ErrHubDown is the error of a command sent to a hub that is restarting, and of every
// command it had not answered when it went down.
const ErrHubDown = "hub restarting"

// Restart takes the hub down for d, as a controller's process or power restarting: the
// commands it had not answered are answered ErrHubDown at once, and so is every command
// sent before it is back. Frames already on the air still reach their locks, but what
// the locks answer meanwhile is lost. The hub keeps its members (they are in its
// non-volatile memory).
func (h *Hub) Restart(d time.Duration) {
	h.downUntil = h.w.Now().Add(d)
	h.log("restarting: down for %s", d)
	pending := h.pending
	h.pending = map[uint64]func(Report){}
	ids := make([]uint64, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pending[id](Report{CommandID: id, Err: ErrHubDown})
	}
	h.w.Clock.AfterFunc(d, func() { h.log("back up") })
}

// Down reports whether the hub is restarting.
func (h *Hub) Down() bool { return h.w.Now().Before(h.downUntil) }

// join adds a lock to the hub's network and returns its address.
func (h *Hub) join(l *Lock) string {
	addr := l.name
	if h.radio == catalog.RadioZWave {
		addr = strconv.Itoa(h.nextNode)
		h.nextNode++
	}
	h.members[addr] = &Member{Address: addr, Twin: l.name}
	h.locks[addr] = l
	return addr
}

// remove drops a member from the hub's list.
func (h *Hub) remove(addr, why string) {
	if _, ok := h.members[addr]; !ok {
		return
	}
	delete(h.members, addr)
	delete(h.locks, addr)
	h.log("removed %s (%s)", addr, why)
}

// ghost marks a member whose lock left without telling the hub.
func (h *Hub) ghost(addr string) {
	if m := h.members[addr]; m != nil {
		m.Ghost = true
		delete(h.locks, addr)
	}
}

// Send sends a command to the lock at addr and calls done with its answer, or with an
// error report on timeout. It returns the command's id.
func (h *Hub) Send(addr string, cmd Command, done func(Report)) uint64 {
	h.nextCmd++
	cmd.ID = h.nextCmd
	if h.Down() {
		h.log("#%d to %s refused: restarting", cmd.ID, addr)
		if done != nil {
			h.w.Clock.AfterFunc(0, func() { done(Report{CommandID: cmd.ID, Err: ErrHubDown}) })
		}
		return cmd.ID
	}
	if done != nil {
		h.pending[cmd.ID] = done
	}
	detail := cmd.Op
	if cmd.Slot != 0 || cmd.Op == OpSetCode || cmd.Op == OpGetCode {
		detail += fmt.Sprintf(" slot %d", cmd.Slot)
	}
	if cmd.Op == OpConfig {
		detail += fmt.Sprintf(" parameter %d = %d", cmd.Param, cmd.Value)
	}
	// One frame at a time: a frame leaves when the previous one has arrived.
	depart := h.w.Now()
	if h.busyUntil.After(depart) {
		depart = h.busyUntil
	}
	l := h.locks[addr]
	lat := h.latencyTo(l, depart)
	arrive := depart.Add(lat)
	h.busyUntil = arrive
	h.log("send #%d %s to %s", cmd.ID, detail, addr)
	h.w.Clock.AfterFunc(h.w.Radio.Timeout+arrive.Sub(h.w.Now()), func() {
		if cb, ok := h.pending[cmd.ID]; ok {
			delete(h.pending, cmd.ID)
			h.log("#%d to %s timed out", cmd.ID, addr)
			cb(Report{CommandID: cmd.ID, Err: "timeout"})
		}
	})
	h.deliver(arrive.Sub(h.w.Now()), func() {
		if l == nil || !l.reachable(h, addr) {
			return // nobody answers at that address
		}
		h.w.log(l.name, KindRadio, "received #%d %s (%s after sending)", cmd.ID, detail, h.w.Now().Sub(depart).Round(time.Millisecond))
		r := l.handle(cmd)
		if r.silent {
			return
		}
		r.CommandID = cmd.ID
		h.reply(l, addr, r)
	})
	return cmd.ID
}

// reply carries a lock's report back to the hub.
func (h *Hub) reply(l *Lock, addr string, r Report) {
	h.deliver(h.latencyFrom(l), func() {
		if h.Down() {
			h.log("report from %s lost: restarting", addr)
			return
		}
		if r.CommandID != 0 {
			cb, ok := h.pending[r.CommandID]
			if !ok {
				h.log("duplicate or late answer to #%d from %s ignored", r.CommandID, addr)
				return
			}
			delete(h.pending, r.CommandID)
			h.noteAlarm(l, addr, r)
			if r.Err != "" {
				h.log("#%d failed at %s: %s", r.CommandID, addr, r.Err)
			} else {
				h.log("#%d done at %s", r.CommandID, addr)
			}
			cb(r)
		} else {
			h.log("event from %s: %s", addr, describeEvent(r))
			h.noteAlarm(l, addr, r)
			h.onEvent(addr, r)
		}
		for _, f := range h.listeners {
			f(addr, r)
		}
		for _, f := range h.w.hubListeners {
			f(h, addr, r)
		}
	})
}

// noteAlarm records the alarm number a report carries, for scenario assertions.
func (h *Hub) noteAlarm(l *Lock, addr string, r Report) {
	if r.Alarm != 0 {
		h.alarms = append(h.alarms, hubAlarm{addr: addr, twin: l.name, n: r.Alarm})
	}
}

// onEvent is the hub's own reaction to an unsolicited report: zwave-js removes a node
// that sends Device Reset Locally after 500 ms (protocols.md §1.6); a Zigbee device that
// leaves is dropped.
func (h *Hub) onEvent(addr string, r Report) {
	if r.Event == latchkey.EventResetLocally {
		h.w.Clock.AfterFunc(500*time.Millisecond, func() { h.remove(addr, "reset locally; it has left the network") })
	}
}

// deliver runs f after d, unless the frame is lost; it may run twice (duplicated) or
// late (reordered), as the radio model draws.
func (h *Hub) deliver(d time.Duration, f func()) {
	cfg := h.w.Radio
	if h.w.chance(cfg.Loss) {
		h.w.log(h.name+"-hub", KindRadio, "frame lost")
		return
	}
	if h.w.chance(cfg.Reorder) {
		d += h.w.between(50*time.Millisecond, 500*time.Millisecond)
	}
	h.w.Clock.AfterFunc(d, f)
	if h.w.chance(cfg.Duplicate) {
		h.w.Clock.AfterFunc(d+h.w.between(time.Millisecond, 20*time.Millisecond), f)
	}
}

// latencyTo is a frame's time from the hub to the lock, leaving at depart.
func (h *Hub) latencyTo(l *Lock, depart time.Time) time.Duration {
	cfg := h.w.Radio
	switch h.radio {
	case catalog.RadioZWave:
		if l == nil {
			return h.w.between(cfg.ZWaveBeamMin, cfg.ZWaveBeamMax)
		}
		var d time.Duration
		if depart.Before(l.awakeUntil) {
			d = h.w.between(cfg.ZWaveAwakeMin, cfg.ZWaveAwakeMax)
		} else {
			d = h.w.between(cfg.ZWaveBeamMin, cfg.ZWaveBeamMax)
		}
		l.awakeUntil = depart.Add(d + cfg.ZWaveAwakeWindow)
		return d
	case catalog.RadioZigbee:
		wait := time.Duration(0)
		if l != nil {
			// The parent holds the frame until the lock's next poll.
			since := depart.Sub(h.w.start) - l.pollPhase
			wait = (cfg.ZigbeePoll - since%cfg.ZigbeePoll) % cfg.ZigbeePoll
		}
		return wait + h.w.between(cfg.ZigbeeHopMin, cfg.ZigbeeHopMax)
	default:
		return h.w.between(cfg.IPMin, cfg.IPMax)
	}
}

// latencyFrom is a frame's time from a lock to its hub: the lock transmits when it likes.
func (h *Hub) latencyFrom(l *Lock) time.Duration {
	cfg := h.w.Radio
	switch h.radio {
	case catalog.RadioZWave:
		return h.w.between(cfg.ZWaveAwakeMin, cfg.ZWaveAwakeMax)
	case catalog.RadioZigbee:
		return h.w.between(cfg.ZigbeeHopMin, cfg.ZigbeeHopMax)
	default:
		return h.w.between(cfg.IPMin, cfg.IPMax)
	}
}

func describeEvent(r Report) string {
	s := string(r.Event)
	if r.Slot != 0 {
		s += fmt.Sprintf(" slot %d", r.Slot)
	}
	if r.Source != "" {
		s += fmt.Sprintf(" (%s)", r.Source)
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// TwinAt returns the name of the twin at an address on the hub (ghosts included).
func (h *Hub) TwinAt(addr string) (string, bool) {
	m, ok := h.members[addr]
	if !ok {
		return "", false
	}
	return m.Twin, true
}

// Network returns the radio and the address the lock has on its hub, if it is paired.
func (l *Lock) Network() (radio, addr string, ok bool) {
	if l.net == nil {
		return "", "", false
	}
	return l.net.hub.radio, l.net.addr, true
}

// Hub returns the hub the lock is paired with, and its address there.
func (l *Lock) Hub() (h *Hub, addr string, ok bool) {
	if l.net == nil {
		return nil, "", false
	}
	return l.net.hub, l.net.addr, true
}

// home is the hub the lock joins: the one LockOptions.Hub named, or its radio's.
func (l *Lock) home() *Hub {
	if h := l.w.hubs[l.hubName]; h != nil && l.hubName != "" {
		return h
	}
	return l.w.Hub(l.radio)
}

// JoinHub pairs the lock with its hub as a person would: on Z-Wave, the hub in inclusion
// mode and button A pressed once; on Zigbee, the hub permitting joins and A pressed four
// times (facts §3.11); a Wi-Fi, Bluetooth or Matter lock through Pair.
func (l *Lock) JoinHub() error {
	switch l.radio {
	case catalog.RadioZWave:
		l.home().SetMode(HubInclusion, 0)
		return l.PressA()
	case catalog.RadioZigbee:
		l.home().SetMode(HubPermit, 0)
		for range 4 {
			if err := l.PressA(); err != nil {
				return err
			}
		}
		return nil
	}
	return l.Pair()
}

// Radios are the hubs a world can have.
var Radios = []string{catalog.RadioZWave, catalog.RadioZigbee, catalog.RadioWiFi, catalog.RadioBLE, catalog.RadioMatter}
