package sim

import (
	"bytes"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
)

// Scenario is a scripted run against twins (docs/simulator.md describes the format):
// a seed, the twins, and steps written in the console's command language.
type Scenario struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Seed        uint64         `yaml:"seed"`
	Start       time.Time      `yaml:"start"`
	Radio       ScenarioRadio  `yaml:"radio"`
	Twins       []ScenarioTwin `yaml:"twins"`
	Steps       []string       `yaml:"steps"`
}

// ScenarioRadio overrides parts of the radio model, in milliseconds and probabilities.
type ScenarioRadio struct {
	ZWaveAwakeWindowMs int     `yaml:"zwave_awake_window_ms"`
	ZigbeePollMs       int     `yaml:"zigbee_poll_ms"`
	TimeoutMs          int     `yaml:"timeout_ms"`
	Loss               float64 `yaml:"loss"`
	Duplicate          float64 `yaml:"duplicate"`
	Reorder            float64 `yaml:"reorder"`
}

// ScenarioTwin declares one twin: a cylinder or a lock.
type ScenarioTwin struct {
	Name     string            `yaml:"name"`
	Cylinder *ScenarioCylinder `yaml:"cylinder"`
	Lock     *ScenarioLock     `yaml:"lock"`
}

// ScenarioCylinder declares a SmartKey cylinder.
type ScenarioCylinder struct {
	Bitting  string `yaml:"bitting"`
	Double   bool   `yaml:"double"`
	Locked   bool   `yaml:"locked"`    // the bolt starts thrown
	DoorOpen bool   `yaml:"door_open"` // the door starts open
}

// ScenarioLock declares an electronic lock.
type ScenarioLock struct {
	Model                   string         `yaml:"model"`
	Radio                   string         `yaml:"radio"`
	BatteryMV               int            `yaml:"battery_mv"`
	DIP                     *DIP           `yaml:"dip"`
	Codes                   map[int]string `yaml:"codes"`
	Mastercode              string         `yaml:"mastercode"`
	ProgrammingCode         string         `yaml:"programming_code"`
	SendsDeviceResetLocally *bool          `yaml:"sends_device_reset_locally"`
	HandingDelayMs          int            `yaml:"handing_delay_ms"`
	TornWrites              bool           `yaml:"torn_writes"`
	Misaligned              bool           `yaml:"misaligned"`
	Locked                  bool           `yaml:"locked"`           // the bolt starts thrown
	Paired                  bool           `yaml:"paired"`           // start joined to its hub
	HandingReversed         bool           `yaml:"handing_reversed"` // a Convert installed the wrong way round
}

// Limits on a scenario file, so that a mistaken or hostile file is refused quickly.
const (
	maxScenarioBytes = 1 << 20
	maxScenarioTwins = 1000
	maxScenarioSteps = 100000
)

// ParseScenario reads a scenario, refusing unknown fields and giving the line of a
// mistake.
func ParseScenario(data []byte) (*Scenario, error) {
	if len(data) > maxScenarioBytes {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A scenario file is at most %d bytes.", maxScenarioBytes)
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The scenario is not valid: %v.", err)
	}
	if len(s.Twins) == 0 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The scenario declares no twins; add a 'twins:' list.")
	}
	if len(s.Twins) > maxScenarioTwins || len(s.Steps) > maxScenarioSteps {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A scenario has at most %d twins and %d steps.", maxScenarioTwins, maxScenarioSteps)
	}
	for i, t := range s.Twins {
		if (t.Cylinder == nil) == (t.Lock == nil) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Twin %d (%q) must be either a cylinder or a lock.", i+1, t.Name)
		}
	}
	for i, step := range s.Steps {
		if _, err := ParseLine(step); err != nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Step %d (%q): %s", i+1, step, latchkey.ErrorMessage(err))
		}
	}
	if r := s.Radio; r.Loss < 0 || r.Loss > 1 || r.Duplicate < 0 || r.Duplicate > 1 || r.Reorder < 0 || r.Reorder > 1 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Radio loss, duplicate and reorder are probabilities from 0 to 1.")
	}
	return &s, nil
}

// Build creates the scenario's world and twins.
func (s *Scenario) Build() (*World, error) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	w := NewWorld(Config{Seed: s.Seed, Start: s.Start, Radio: RadioConfig{
		ZWaveAwakeWindow: ms(s.Radio.ZWaveAwakeWindowMs), ZigbeePoll: ms(s.Radio.ZigbeePollMs),
		Timeout: ms(s.Radio.TimeoutMs), Loss: s.Radio.Loss, Duplicate: s.Radio.Duplicate, Reorder: s.Radio.Reorder,
	}})
	for _, t := range s.Twins {
		if t.Cylinder != nil {
			if _, err := w.AddCylinder(t.Name, CylinderOptions{Bitting: keying.Bitting(t.Cylinder.Bitting), Double: t.Cylinder.Double,
				Locked: t.Cylinder.Locked, DoorOpen: t.Cylinder.DoorOpen}); err != nil {
				return nil, fmt.Errorf("twin %s: %w", t.Name, err)
			}
			continue
		}
		o := t.Lock
		l, err := w.AddLock(t.Name, LockOptions{
			Model: o.Model, Radio: o.Radio, BatteryMV: o.BatteryMV, DIP: o.DIP, Codes: o.Codes,
			Mastercode: o.Mastercode, ProgCode: o.ProgrammingCode, SendsDeviceResetLocally: o.SendsDeviceResetLocally,
			HandingDelay: ms(o.HandingDelayMs), TornWrites: o.TornWrites, Misaligned: o.Misaligned, Locked: o.Locked,
			HandingReversed: o.HandingReversed,
		})
		if err != nil {
			return nil, fmt.Errorf("twin %s: %w", t.Name, err)
		}
		if o.Paired {
			if o.Radio == "" {
				return nil, latchkey.Errorf(latchkey.EINVALID, "Twin %s is paired but has no radio.", t.Name)
			}
			h := w.Hub(o.Radio)
			l.net = &membership{hub: h, addr: h.join(l)}
		}
	}
	return w, nil
}

// Run builds the world and runs every step. It returns the world (with its trace) even
// when a step fails, and an error naming the step.
func (s *Scenario) Run() (*World, error) {
	w, err := s.Build()
	if err != nil {
		return nil, err
	}
	c := &Console{W: w}
	for i, step := range s.Steps {
		if err := c.Exec(step); err != nil {
			return w, latchkey.Errorf(latchkey.ErrorCode(err), "Step %d (%q) failed: %s", i+1, step, latchkey.ErrorMessage(err))
		}
	}
	return w, nil
}
