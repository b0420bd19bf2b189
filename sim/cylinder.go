package sim

import (
	"fmt"
	"strconv"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
)

// Cylinder states (facts §8).
const (
	CylinderOperate   = "operate"   // the learned key turns the plug
	CylinderLearn     = "learn"     // racks released by the tool; the next key turned back is learned
	CylinderScrambled = "scrambled" // misprogrammed: no key turns (facts §1.3)
)

// Sides of a door.
const (
	Outside = "outside"
	Inside  = "inside"
)

// Cylinder is a SmartKey Security cylinder (facts §1): five racks and a sidebar that
// learn a new KW1 key when the working key is turned 90° clockwise, the SmartKey tool is
// pushed fully in, and the new key is inserted fully and turned 180° counter-clockwise.
// The mistakes of §1.3 scramble it; forcing it breaks the rekey mechanism.
//
// The plug is modelled as one: a double cylinder (keyed on both sides) shares one
// bitting and one learn state, and a single cylinder has a thumbturn inside. The plug
// drives a bolt: turned to 90° clockwise it throws the bolt, to 90° counter-clockwise it
// retracts it, and the bolt stays where it is when the key comes back to vertical (the
// direction is the twin's choice: door hand is not modelled). A thrown bolt keeps the
// door from closing.
type Cylinder struct {
	w       *World
	name    string
	spec    keying.Spec
	bitting keying.Bitting
	double  bool

	state       string
	rekeyBroken bool // forced once: the learn function no longer engages (facts §1.3)
	key         keying.Bitting
	keyFull     bool
	keySide     string
	angle       int // plug rotation from vertical, degrees, clockwise positive
	tool        int // 0 out, 1 partly in, 2 fully in
	learnTurn   int // counter-clockwise degrees turned by a key in learn mode
	locked      bool
	doorOpen    bool
}

// CylinderOptions set up a cylinder twin.
type CylinderOptions struct {
	Bitting  keying.Bitting // the key it is keyed to
	Double   bool           // keyed on both sides
	Locked   bool           // the bolt starts thrown
	DoorOpen bool           // the door starts open
}

// AddCylinder adds a SmartKey cylinder keyed to opt.Bitting.
func (w *World) AddCylinder(name string, opt CylinderOptions) (*Cylinder, error) {
	spec := keying.KW1
	if err := spec.Validate(opt.Bitting); err != nil {
		return nil, err
	}
	c := &Cylinder{w: w, name: name, spec: spec, bitting: opt.Bitting, double: opt.Double, state: CylinderOperate,
		locked: opt.Locked, doorOpen: opt.DoorOpen}
	if err := w.add(name, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Name returns the twin's name.
func (c *Cylinder) Name() string { return c.name }

// State returns operate, learn or scrambled.
func (c *Cylinder) State() string { return c.state }

// Bitting returns the key the cylinder is keyed to (meaningless while scrambled).
func (c *Cylinder) Bitting() keying.Bitting { return c.bitting }

func (c *Cylinder) log(kind, format string, args ...any) { c.w.log(c.name, kind, format, args...) }

func (c *Cylinder) refuse(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	c.log(KindRefuse, "%s", msg)
	return latchkey.Errorf(latchkey.ECONFLICT, "%s", msg)
}

// InsertKey puts a key into the keyway from side, fully or partly.
func (c *Cylinder) InsertKey(b keying.Bitting, full bool, side string) error {
	if err := c.spec.Validate(b); err != nil {
		return c.refuse("key %s is not a KW1 key this cylinder can take: %s", b, latchkey.ErrorMessage(err))
	}
	switch {
	case side != Outside && side != Inside:
		return latchkey.Errorf(latchkey.EINVALID, "Side must be inside or outside.")
	case side == Inside && !c.double:
		return c.refuse("the inside has a thumbturn, not a keyway")
	case c.key != "":
		return c.refuse("a key is already in the keyway")
	}
	c.key, c.keyFull, c.keySide = b, full, side
	depth := "fully"
	if !full {
		depth = "partly"
	}
	c.log(KindAction, "key %s inserted %s from %s", b, depth, side)
	return nil
}

// RemoveKey pulls the key out. Out of learn mode a key comes out only at vertical; in
// learn mode, pulling a key before its learn turn is complete scrambles the cylinder.
func (c *Cylinder) RemoveKey() error {
	if c.key == "" {
		return c.refuse("there is no key to remove")
	}
	switch {
	case c.state == CylinderLearn && c.learnTurn > 0 && c.learnTurn < 180:
		c.scramble("the key was withdrawn before the learn turn completed (facts §1.3)")
	case c.state == CylinderOperate && c.angle != 0:
		return c.refuse("the key comes out only at vertical; it is turned %d°", c.angle)
	}
	c.log(KindAction, "key %s removed", c.key)
	c.key, c.keyFull = "", false
	if c.state == CylinderLearn && c.learnTurn == 0 {
		c.angle = 90 // the plug stays in the learn position for the next key
	}
	return nil
}

// InsertTool pushes the SmartKey tool into the SmartKey hole, fully or partly. With the
// working key turned 90° clockwise, full insertion releases the racks (learn mode);
// partial insertion scrambles the cylinder (facts §1.3).
func (c *Cylinder) InsertTool(full bool) error {
	if c.tool != 0 {
		return c.refuse("the tool is already in")
	}
	c.tool = 1
	if full {
		c.tool = 2
	}
	c.log(KindAction, "SmartKey tool inserted %s", map[bool]string{true: "fully", false: "partly"}[full])
	ready := c.state == CylinderOperate && c.key == c.bitting && c.keyFull && c.angle == 90
	switch {
	case !ready:
		c.log(KindState, "the tool does nothing: the working key must be in and turned 90° clockwise first (facts §1.2)")
	case c.rekeyBroken:
		c.log(KindState, "the tool does not engage: this cylinder has been forced and its rekey function is broken (facts §1.3)")
	case !full:
		c.scramble("the SmartKey tool was not fully inserted (facts §1.3)")
	default:
		c.state, c.learnTurn = CylinderLearn, 0
		c.log(KindState, "learn mode: racks released; remove the tool and the working key, insert the new key fully and turn it 180° counter-clockwise")
		if !c.doorOpen {
			c.log(KindState, "the door is closed: a mistake now leaves no key that opens it from outside (facts §1.2: keep the door open)")
		}
	}
	return nil
}

// RemoveTool pulls the tool out.
func (c *Cylinder) RemoveTool() error {
	if c.tool == 0 {
		return c.refuse("the tool is not in")
	}
	c.tool = 0
	c.log(KindAction, "SmartKey tool removed")
	return nil
}

// Turn rotates the key by deg degrees, clockwise when cw. A wrong key, or one not fully
// in, does not turn. Forcing it anyway, or forcing any key in learn mode, leaves a
// cylinder that neither the old nor the new key turns, with its rekey function broken
// (facts §1.3).
func (c *Cylinder) Turn(deg int, cw bool, force bool) error {
	if deg <= 0 || deg > 360 {
		return latchkey.Errorf(latchkey.EINVALID, "Turn by 1 to 360 degrees.")
	}
	if c.key == "" {
		return c.refuse("there is no key to turn")
	}
	dir := "clockwise"
	if !cw {
		dir = "counter-clockwise"
	}
	if c.state == CylinderLearn {
		if force {
			c.forced("a key was forced during the rekey")
			c.log(KindKey, "key %s forced %s in learn mode: it does not turn", c.key, dir)
			return latchkey.Errorf(latchkey.ECONFLICT, "The key does not turn: it was forced in learn mode.")
		}
		return c.turnLearning(deg, cw, dir)
	}
	turns := c.state == CylinderOperate && c.key == c.bitting && c.keyFull
	if !turns {
		why := "the key does not match the cylinder"
		switch {
		case c.state == CylinderScrambled:
			why = "the cylinder is scrambled: neither the old nor the new key works; remove the cylinder for the reset cradle, or call a locksmith (facts §1.3)"
		case c.key == c.bitting && !c.keyFull:
			why = "the key is not fully inserted"
		}
		if force {
			c.forced("a key was forced")
		}
		c.log(KindKey, "key %s does not turn %s: %s", c.key, dir, why)
		return latchkey.Errorf(latchkey.ECONFLICT, "The key does not turn: %s.", why)
	}
	next := c.angle - deg
	if cw {
		next = c.angle + deg
	}
	if next > 180 || next < -180 {
		return c.refuse("the plug stops at a half turn either way")
	}
	c.angle = next
	c.log(KindKey, "key %s turned %d° %s (now %d°)", c.key, deg, dir, c.angle)
	c.moveBolt("key")
	return nil
}

// moveBolt throws the bolt when the plug reaches 90° clockwise and retracts it at 90°
// counter-clockwise.
func (c *Cylinder) moveBolt(by string) {
	switch {
	case c.angle >= 90 && !c.locked:
		c.locked = true
		c.log(KindBolt, "thrown by the %s", by)
	case c.angle <= -90 && c.locked:
		c.locked = false
		c.log(KindBolt, "retracted by the %s", by)
	}
}

// ThumbTurn turns the inside thumbturn of a single cylinder: it throws a retracted bolt
// and retracts a thrown one, whatever state the plug's racks are in.
func (c *Cylinder) ThumbTurn() error {
	switch {
	case c.double:
		return c.refuse("a double cylinder has a keyway inside, not a thumbturn")
	case c.key != "" && c.angle != 0:
		return c.refuse("the key in the plug holds the cam at %d°", c.angle)
	}
	c.locked = !c.locked
	c.log(KindBolt, "%s by the thumbturn", map[bool]string{true: "thrown", false: "retracted"}[c.locked])
	return nil
}

// SetDoor opens or closes the door. A thrown bolt keeps it from closing.
func (c *Cylinder) SetDoor(open bool) error {
	if !open && c.doorOpen && c.locked {
		return c.refuse("the bolt is thrown: the door cannot close")
	}
	c.doorOpen = open
	c.log(KindAction, "door %s", map[bool]string{true: "opened", false: "closed"}[open])
	return nil
}

// turnLearning handles a key turned in learn mode: counter-clockwise 180° with a key
// fully in teaches the cylinder that key (whichever key it is); a key not fully in
// scrambles it.
func (c *Cylinder) turnLearning(deg int, cw bool, dir string) error {
	switch {
	case cw:
		return c.refuse("in learn mode the new key turns counter-clockwise")
	case !c.keyFull:
		c.scramble("the new key was not fully inserted when it was turned (facts §1.3)")
		return nil
	}
	c.learnTurn += deg
	c.angle = 90 - c.learnTurn
	c.log(KindKey, "key %s turned %d° %s in learn mode (%d° of 180°)", c.key, deg, dir, min(c.learnTurn, 180))
	if c.learnTurn >= 180 {
		c.bitting, c.state, c.angle, c.learnTurn = c.key, CylinderOperate, -90, 0
		c.log(KindState, "learned key %s; the old key no longer works", c.bitting)
	}
	c.moveBolt("key")
	return nil
}

// forced breaks the rekey function and scrambles the cylinder: "a key is forced" is
// one of the mistakes that leave neither key working, and a forced SmartKey's rekey
// function is broken (facts §1.3).
func (c *Cylinder) forced(why string) {
	if !c.rekeyBroken {
		c.rekeyBroken = true
		c.log(KindState, "forced: the rekey function is now broken (facts §1.3)")
	}
	if c.state != CylinderScrambled {
		c.scramble(why + " (facts §1.3)")
	}
}

func (c *Cylinder) scramble(why string) {
	c.state, c.learnTurn = CylinderScrambled, 0
	c.log(KindState, "scrambled: %s; neither key turns now", why)
}

// Recover is the locksmith's or the reset cradle's way out of a scrambled cylinder: the
// cylinder is taken out and set to a known key. The cradle procedure itself is
// unconfirmed (facts §1.3); the twin only records that it was done. A forced cylinder's
// rekey function stays broken: nothing says the cradle repairs it.
func (c *Cylinder) Recover(b keying.Bitting) error {
	if err := c.spec.Validate(b); err != nil {
		return err
	}
	c.bitting, c.state, c.angle, c.learnTurn, c.key, c.tool = b, CylinderOperate, 0, 0, "", 0
	c.log(KindState, "cylinder removed and reset to key %s (reset cradle or locksmith)", b)
	return nil
}

// Fields lists the names Field answers to.
func (c *Cylinder) Fields() []string {
	return []string{"state", "bitting", "key", "angle", "tool", "rekey", "bolt", "door"}
}

// Field reads one piece of observable state.
func (c *Cylinder) Field(name string) (string, bool) {
	switch name {
	case "state":
		return c.state, true
	case "bitting":
		return string(c.bitting), true
	case "key":
		if c.key == "" {
			return "none", true
		}
		return string(c.key), true
	case "angle":
		return strconv.Itoa(c.angle), true
	case "tool":
		return [...]string{"out", "partly", "fully"}[c.tool], true
	case "rekey":
		if c.rekeyBroken {
			return "broken", true
		}
		return "ok", true
	case "bolt":
		return map[bool]string{true: "locked", false: "unlocked"}[c.locked], true
	case "door":
		return map[bool]string{true: "open", false: "closed"}[c.doorOpen], true
	}
	return "", false
}
