package latchkey

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Locks already paired with a hub are discovered there and adopted: a lock record is
// made for one on a door, connected to it, and then its slots are surveyed. Every code
// the survey finds is a foreign code: Latchkey never writes over it; a person adopts it
// as a code of someone's, or clears it. Until the survey has read every slot, no code is
// put on the lock, for it might land on one set at the keypad.

// KwiksetZWaveManufacturer is Kwikset's Z-Wave manufacturer id (facts §3.11): a device
// carrying it is a Kwikset lock even when the catalog does not know its product.
const KwiksetZWaveManufacturer = 0x0090

// IsKwikset reports whether the hub says the device is a Kwikset's: a Kwikset lock the
// catalog does not know is still offered, for a person to name its model.
func (d DeviceInfo) IsKwikset() bool {
	return d.ZWaveManufacturer == KwiksetZWaveManufacturer || strings.Contains(strings.ToLower(d.ZigbeeManufacturer), "kwikset")
}

// DeviceModels identifies devices a hub lists: the catalog's models matching a device's
// Z-Wave or Zigbee ids (none when unknown; more than one when the ids are shared). A
// Models that is also a DeviceModels identifies discovered locks.
type DeviceModels interface {
	IdentifyDevice(d DeviceInfo) []string
}

// DiscoveredLock is a lock a hub knows that no lock record is connected to.
type DiscoveredLock struct {
	Device DeviceInfo `json:"device"`
	// ModelID is the catalog model its ids name; "" when unknown or ambiguous, and then
	// a person chooses (Candidates, when several share the ids).
	ModelID    string   `json:"model_id,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
}

// HubDiscovery is what one hub offers for adoption.
type HubDiscovery struct {
	Driver Driver           `json:"driver"`
	Locks  []DiscoveredLock `json:"locks"`
	// Error says why the hub could not be asked (it is not reached, it does not list its
	// devices); the other hubs are still listed.
	Error string `json:"error,omitempty"`
}

// DiscoveredAdoption asks for a discovered lock to be recorded on a door. ModelID empty
// takes the model the hub's ids identify.
type DiscoveredAdoption struct {
	Driver  Driver `json:"driver"`
	Address string `json:"address"`
	DoorID  int64  `json:"door_id"`
	Name    string `json:"name"`
	ModelID string `json:"model_id,omitempty"`
}

// SurveyState is where the survey of an adopted lock's slots stands.
type SurveyState string

// Survey states. A lock not adopted from a hub has none.
const (
	SurveyNone    SurveyState = ""
	SurveyPending SurveyState = "pending" // slots remain to be read: no code is put on the lock
	SurveyDone    SurveyState = "done"
)

// SlotSurvey is the reading of every slot of a lock adopted from its hub, to list the
// codes already on it. It is kept on the lock, so that a survey a sleepy lock broke off
// is taken up where it stopped.
type SlotSurvey struct {
	State SurveyState `json:"state,omitempty"`
	// Read is how many slots were read, from slot 1; Found how many held a code.
	Read  int `json:"read,omitempty"`
	Found int `json:"found,omitempty"`
	// Reason says why a pending survey stopped (the lock did not answer).
	Reason string `json:"reason,omitempty"`
}

// Pending reports whether slots remain to be read.
func (s SlotSurvey) Pending() bool { return s.State == SurveyPending }

// Discovery is what the API, the web pages and the command line use of discovered
// locks; Service implements it over the hubs a server runs, and the HTTP client over a
// server.
type Discovery interface {
	// DiscoveredLocks lists, hub by hub, the locks the hubs know that no lock record is
	// connected to. Anyone who reads records may list them: they carry no code.
	DiscoveredLocks(ctx context.Context) ([]HubDiscovery, error)
	// AdoptDiscovered records a discovered lock on a door, connected to it, and surveys
	// its slots (SurveyLock). The lock is recorded even when the survey stops short.
	AdoptDiscovered(ctx context.Context, req DiscoveredAdoption) (*Lock, error)
	// SurveyLock reads the slots an adopted lock's survey has not read yet and lists each
	// code found as a foreign code. It returns the lock with the survey as it stands, and
	// EUNAVAILABLE, saying to try again, when the lock stopped answering.
	SurveyLock(ctx context.Context, lockID int64) (*Lock, error)
}

var _ Discovery = (*Service)(nil)

// surveyReadTimeout bounds the read of one slot: a sleepy lock answers late, or not.
const surveyReadTimeout = 20 * time.Second

// surveyBudget bounds one call's reading, so that it answers within a request's time
// (the server writes for 60 s at most): a lock with many slots, or slow to answer, is
// read in parts, each taken up where the last stopped.
const surveyBudget = 40 * time.Second

// maxSurveySlots bounds a survey, whatever a model says it holds.
const maxSurveySlots = 250

// DiscoveredLocks lists the locks each hub knows that no lock record is connected to,
// with the model their ids identify.
func (s *Service) DiscoveredLocks(ctx context.Context) ([]HubDiscovery, error) {
	if err := require(ctx, PermRead); err != nil {
		return nil, err
	}
	var hubs []*Hub
	if err := s.Store.View(ctx, func(tx Tx) (err error) { hubs, err = tx.FindHubs(ctx); return err }); err != nil {
		return nil, err
	}
	switch {
	case len(hubs) == 0:
		return []HubDiscovery{}, nil // no hub, so nothing found on one
	case len(s.Listers) == 0:
		return nil, Errorf(EUNAVAILABLE, "Discovered locks are listed by the server that runs the hubs: ask it (--server URL), or open its settings page.")
	}
	configured := map[Driver]bool{}
	for _, h := range hubs {
		configured[h.Driver] = true
	}
	out := []HubDiscovery{}
	for _, kind := range HubDrivers {
		lister := s.Listers[kind]
		if lister == nil || !configured[kind] {
			continue
		}
		hd := HubDiscovery{Driver: kind, Locks: []DiscoveredLock{}}
		devices, err := lister.Devices(ctx)
		if err != nil {
			hd.Error = ErrorMessage(err)
			out = append(out, hd)
			continue
		}
		connected, err := s.connectedAddresses(ctx, kind)
		if err != nil {
			return nil, err
		}
		for _, d := range devices {
			if d.Address == "" || connected[strings.ToLower(d.Address)] {
				continue
			}
			d.Driver = kind
			if dl, ok := s.identify(d); ok {
				hd.Locks = append(hd.Locks, dl)
			}
		}
		out = append(out, hd)
	}
	return out, nil
}

// connectedAddresses returns the addresses (lowercased: a Zigbee IEEE address is hex, in
// either case) of the locks connected through a driver, read a page of a thousand at a
// time rather than a lock per device the hub lists.
func (s *Service) connectedAddresses(ctx context.Context, kind Driver) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.view(ctx, func(tx Tx) error {
		for offset := 0; ; offset += 1000 {
			locks, total, err := tx.FindLocks(ctx, LockFilter{Driver: &kind}, Page{Offset: offset, Limit: 1000})
			if err != nil {
				return err
			}
			for _, l := range locks {
				out[strings.ToLower(l.Connection.Address)] = true
			}
			if len(locks) == 0 || offset+len(locks) >= total {
				return nil
			}
		}
	})
	return out, err
}

// identify names a device's model, and says whether it is a lock to offer: one the
// catalog knows, or a Kwikset the catalog does not.
func (s *Service) identify(d DeviceInfo) (DiscoveredLock, bool) {
	dl := DiscoveredLock{Device: d}
	if dm, ok := s.Models.(DeviceModels); ok {
		switch ids := dm.IdentifyDevice(d); len(ids) {
		case 0:
		case 1:
			dl.ModelID = ids[0]
		default:
			dl.Candidates = ids
		}
	}
	return dl, dl.ModelID != "" || len(dl.Candidates) > 0 || d.IsKwikset()
}

// discovered finds one discovered lock on its hub.
func (s *Service) discovered(ctx context.Context, driver Driver, address string) (DiscoveredLock, error) {
	lister := s.Listers[driver]
	switch {
	case len(s.Listers) == 0:
		// The command line on a data directory: the hubs run in the server.
		return DiscoveredLock{}, Errorf(EUNAVAILABLE, "Discovered locks are adopted through the server that runs the hubs: ask it (--server URL), or open its settings page.")
	case lister == nil:
		return DiscoveredLock{}, Errorf(EUNAVAILABLE, "No %s hub runs here to adopt a lock from: add one (latchkey hub add %s URL).", driver.Title(), driver)
	}
	devices, err := lister.Devices(ctx)
	if err != nil {
		return DiscoveredLock{}, err
	}
	for _, d := range devices {
		// A Zigbee IEEE address is hex, which people copy in either case; the hub's
		// own spelling is the one recorded, so that its events find the lock.
		if d.Address == address || driver == DriverZigbee2MQTT && strings.EqualFold(d.Address, address) {
			d.Driver = driver
			if dl, ok := s.identify(d); ok {
				return dl, nil
			}
			return DiscoveredLock{}, Errorf(EINVALID, "Device %s on the %s hub is not a lock Latchkey knows (its ids name no Kwikset model).", address, driver.Title())
		}
	}
	return DiscoveredLock{}, Errorf(ENOTFOUND, "The %s hub lists no device %q: 'latchkey hub discovered' lists those it does.", driver.Title(), truncate(address, 80))
}

// AdoptDiscovered records a discovered lock on a door with its identified (or chosen)
// model, connected to it, and surveys its slots. When the survey stops short, the lock
// is returned with its survey pending and the reason, and no error: it was adopted.
func (s *Service) AdoptDiscovered(ctx context.Context, req DiscoveredAdoption) (*Lock, error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	if _, ok := hubSchemes[req.Driver]; !ok {
		return nil, unknownHubDriver(req.Driver)
	}
	req.Address, req.ModelID = strings.TrimSpace(req.Address), strings.TrimSpace(req.ModelID)
	if err := validateText("Address", req.Address, 200, false); err != nil {
		return nil, err
	}
	if req.Address == "" {
		return nil, Errorf(EINVALID, "Give the discovered lock's address, as 'latchkey hub discovered' lists it.")
	}
	if req.DoorID <= 0 {
		return nil, Errorf(EINVALID, "Give the door the lock is on (door_id, --door).")
	}
	dl, err := s.discovered(ctx, req.Driver, req.Address)
	if err != nil {
		return nil, err
	}
	model := req.ModelID
	if model == "" {
		model = dl.ModelID
	}
	if model == "" {
		return nil, Errorf(EINVALID, "Latchkey cannot tell the model of %s from its ids: choose it (model_id, --model; 'latchkey models ls' lists them).", req.Address)
	}
	l := &Lock{DoorID: req.DoorID, Name: req.Name, ModelID: model, Connection: Connection{Driver: req.Driver, Address: dl.Device.Address}}
	l.Name = strings.TrimSpace(l.Name)
	if err := s.checkLock(l); err != nil {
		return nil, err
	}
	if s.Models.CodeCapacity(model) > 0 {
		l.Survey = SlotSurvey{State: SurveyPending}
	}
	err = s.change(ctx, "lock.adopt", "lock", func(tx Tx) (int64, any, error) {
		l.ID = 0
		if _, err := tx.FindDoorByID(ctx, l.DoorID); err != nil {
			return 0, nil, err
		}
		if err := connectionFree(ctx, tx, l); err != nil {
			return 0, nil, err
		}
		err := tx.CreateLock(ctx, l)
		return l.ID, map[string]any{"name": l.Name, "door_id": l.DoorID, "model_id": l.ModelID, "driver": l.Connection.Driver, "address": l.Connection.Address, "identified": req.ModelID == ""}, err
	})
	if err != nil {
		return nil, err
	}
	if !l.Survey.Pending() {
		return l, nil
	}
	surveyed, err := s.SurveyLock(ctx, l.ID)
	if surveyed != nil {
		return surveyed, nil // a survey cut short is on the lock, with its reason
	}
	return l, err
}

// SurveyLock reads the slots an adopted lock's survey has not read, up to its model's
// capacity, and lists each code found in a slot Latchkey does not own as a foreign code.
// Progress is kept slot by slot, so that a lock that stops answering is surveyed from
// where it stopped when asked again; a survey longer than surveyBudget returns pending,
// with no error, to be taken up again.
func (s *Service) SurveyLock(ctx context.Context, lockID int64) (*Lock, error) {
	if err := require(ctx, PermWrite); err != nil {
		return nil, err
	}
	l, err := s.surveyedLock(ctx, lockID)
	if err != nil {
		return nil, err
	}
	if !l.Survey.Pending() {
		return nil, Errorf(ECONFLICT, "Lock %d (%s) has no survey to run: its slots were read when it was adopted, or it was not adopted from a hub.", l.ID, l.Name)
	}
	reader := s.Readers[l.Connection.Driver]
	if reader == nil {
		return nil, Errorf(EUNAVAILABLE, "Lock %d (%s) is surveyed through its %s hub, which does not run here: run the survey on the server (--server URL).", l.ID, l.Name, l.Connection.Driver.Title())
	}
	if _, busy := s.surveying.LoadOrStore(l.ID, true); busy {
		return nil, Errorf(ECONFLICT, "The slots of lock %d (%s) are being read now; wait for that survey to end.", l.ID, l.Name)
	}
	defer s.surveying.Delete(l.ID)
	capacity := min(s.Models.CodeCapacity(l.ModelID), maxSurveySlots)
	began := time.Now() // the wall clock: the budget is a request's time
	for slot := l.Survey.Read + 1; slot <= capacity; slot++ {
		if slot > l.Survey.Read+1 && time.Since(began) > surveyBudget {
			reason := fmt.Sprintf("Read in parts: slots 1 to %d are read; read the rest (latchkey hub survey %d).", slot-1, l.ID)
			if err := s.recordSurvey(ctx, l.ID, slot-1, false, reason); err != nil {
				return nil, err
			}
			return s.surveyedLock(ctx, l.ID)
		}
		readCtx, cancel := context.WithTimeout(ctx, surveyReadTimeout)
		_, present, err := reader.ReadCode(readCtx, l.Connection.Address, slot)
		cancel()
		if err != nil {
			reason := fmt.Sprintf("Slot %d did not answer (%s): wake the lock (touch its keypad), then read the rest.", slot, strings.TrimSuffix(ErrorMessage(err), "."))
			if rerr := s.recordSurvey(ctx, l.ID, slot-1, false, reason); rerr != nil {
				return nil, rerr
			}
			return s.surveyStopped(ctx, l, slot, err)
		}
		if err := s.recordSurvey(ctx, l.ID, slot, present, ""); err != nil {
			return nil, err
		}
	}
	err = s.change(ctx, "lock.surveyed", "lock", func(tx Tx) (int64, any, error) {
		cur, err := tx.FindLockByID(ctx, l.ID)
		if err != nil {
			return 0, nil, err
		}
		cur.Survey.State, cur.Survey.Reason = SurveyDone, ""
		l = cur
		return cur.ID, map[string]any{"slots": cur.Survey.Read, "found": cur.Survey.Found}, tx.UpdateLock(ctx, cur)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// surveyedLock reads a lock as its survey left it. The caller has checked the
// principal's permission: this is the survey's one way of reading the lock.
func (s *Service) surveyedLock(ctx context.Context, lockID int64) (l *Lock, err error) {
	err = s.Store.View(ctx, func(tx Tx) error { l, err = tx.FindLockByID(ctx, lockID); return err })
	return l, err
}

// surveyStopped returns the lock whose survey stopped at a slot, and the error saying so.
func (s *Service) surveyStopped(ctx context.Context, l *Lock, slot int, cause error) (*Lock, error) {
	cur, err := s.surveyedLock(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	return cur, Errorf(EUNAVAILABLE, "Lock %d (%s) stopped answering at slot %d (%s): its survey resumes there when you try again (latchkey hub survey %d), once the lock is awake.", l.ID, l.Name, slot, strings.TrimSuffix(ErrorMessage(cause), "."), l.ID)
}

// recordSurvey keeps a survey's progress: read slots up to read, the last one holding a
// code (found) listed as a foreign code unless Latchkey owns the slot. It is the lock's
// state, as its reports are: not an act of a person, so it is not in the audit log; the
// survey's end is.
func (s *Service) recordSurvey(ctx context.Context, lockID int64, read int, found bool, reason string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		l, err := tx.FindLockByID(ctx, lockID)
		if err != nil {
			return err
		}
		if !l.Survey.Pending() {
			return Errorf(ECONFLICT, "The survey of lock %d ended meanwhile.", lockID)
		}
		if found {
			owned, err := slotOwned(ctx, tx, lockID, read)
			if err != nil {
				return err
			}
			if !owned {
				if err := noteForeign(ctx, tx, lockID, read, SourceRF, s.now()); err != nil {
					return err
				}
				l.Survey.Found++
			}
		}
		l.Survey.Read, l.Survey.Reason = read, reason
		return tx.UpdateLock(ctx, l)
	})
}

// slotOwned reports whether one of Latchkey's codes holds a slot of a lock.
func slotOwned(ctx context.Context, tx Tx, lockID int64, slot int) (bool, error) {
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &lockID})
	for _, g := range grants {
		if g.Slot == slot && g.Status != GrantRemoved {
			return true, err
		}
	}
	return false, err
}
