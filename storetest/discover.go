package storetest

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
)

// hubWithCodes is a hub listing one Kwikset lock, "front", with a code set at its keypad
// in slot 2; reads of the slots in dozing fail once.
type hubWithCodes struct{ dozing map[int]bool }

func (hubWithCodes) Devices(context.Context) ([]latchkey.DeviceInfo, error) {
	return []latchkey.DeviceInfo{{Address: "front", ZigbeeModel: "SMARTCODE_DEADBOLT_10", ZigbeeManufacturer: "Kwikset"}}, nil
}

func (h hubWithCodes) ReadCode(_ context.Context, address string, slot int) (string, bool, error) {
	if h.dozing[slot] {
		delete(h.dozing, slot)
		return "", false, latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock did not answer.")
	}
	return "", slot == 2, nil
}

// A lock adopted from its hub keeps its survey in the store (state, slots read, codes
// found, why it stopped) through the lock's other writes; a survey is never taken from a
// client; the code found is a foreign code.
func testDiscoverySurvey(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	hub := hubWithCodes{dozing: map[int]bool{3: true}}
	s.Listers = map[latchkey.Driver]latchkey.DeviceLister{latchkey.DriverZigbee2MQTT: hub}
	s.Readers = map[latchkey.Driver]latchkey.CodeReader{latchkey.DriverZigbee2MQTT: hub}
	_, err := s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"})
	must(t, err)
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, s.CreateSite(ctx(), site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front"}
	must(t, s.CreateDoor(ctx(), door))

	typed := &latchkey.Lock{DoorID: door.ID, Name: "Typed", ModelID: "914", Survey: latchkey.SlotSurvey{State: latchkey.SurveyPending, Read: 9}}
	must(t, s.CreateLock(ctx(), typed))
	if got, err := s.FindLockByID(ctx(), typed.ID); err != nil || got.Survey != (latchkey.SlotSurvey{}) {
		t.Fatalf("a survey taken from a client: %+v %v", got, err)
	}

	l, err := s.AdoptDiscovered(ctx(), latchkey.DiscoveredAdoption{Driver: latchkey.DriverZigbee2MQTT, Address: "front", DoorID: door.ID, Name: "Front", ModelID: "914"})
	must(t, err)
	want := latchkey.SlotSurvey{State: latchkey.SurveyPending, Read: 2, Found: 1}
	got, err := s.FindLockByID(ctx(), l.ID)
	must(t, err)
	if got.Survey.State != want.State || got.Survey.Read != want.Read || got.Survey.Found != want.Found || got.Survey.Reason == "" {
		t.Fatalf("the survey stored: %+v", got.Survey)
	}
	// A report from the lock rewrites its record; the survey stays.
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverZigbee2MQTT, Address: "front", Kind: latchkey.EventLocked, BatteryMV: 6000})
	must(t, err)
	if got, err = s.FindLockByID(ctx(), l.ID); err != nil || got.Survey.Read != 2 || !got.Survey.Pending() {
		t.Fatalf("the survey after a report: %+v %v", got.Survey, err)
	}
	l, err = s.SurveyLock(ctx(), l.ID)
	must(t, err)
	if l.Survey != (latchkey.SlotSurvey{State: latchkey.SurveyDone, Read: 3, Found: 1}) {
		t.Fatalf("the survey done: %+v", l.Survey)
	}
	foreign, err := s.FindForeignCodes(ctx(), l.ID)
	must(t, err)
	if len(foreign) != 1 || foreign[0].Slot != 2 {
		t.Fatalf("foreign codes %+v", foreign)
	}
}
