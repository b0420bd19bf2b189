package z2msim

// What a Kwikset Zigbee lock sends on its Door Lock and Power Configuration clusters,
// and what zigbee-herdsman-converters' fromZigbee converters of the Kwikset definitions
// make of it. The fleet builds each message as the lock would and converts it here;
// converters_test.go checks these conversions against the converters themselves, run
// in Node, on every value the fleet sends.

// operationEvent is a Door Lock operationEventNotification.
type operationEvent struct {
	Code   int `json:"opereventcode"` // 1 lock, 2 unlock, 3..6 failures, 7 one-touch lock...
	User   int `json:"userid"`
	Source int `json:"opereventsrc"` // 0 keypad, 1 rf, 2 manual, 3 rfid, 4 fingerprint, 0xff indeterminate
}

// programmingEvent is a Door Lock programmingEventNotification.
type programmingEvent struct {
	Code   int `json:"programeventcode"` // 2 added, 3 deleted, 4 changed
	User   int `json:"userid"`
	Source int `json:"programeventsrc"`
}

// pinCodeResponse is a Door Lock getPinCodeRsp.
type pinCodeResponse struct {
	User   int    `json:"userid"`
	Status int    `json:"userstatus"` // 0 available, 1 enabled, 3 disabled
	Type   int    `json:"usertype"`
	PIN    string `json:"pincodevalue"`
}

// ZCL values the fleet sends.
const (
	opLock               = 1
	opUnlock             = 2
	opUnlockFailedPIN    = 5
	opManualLock         = 13
	opManualUnlock       = 14
	opAutoLock           = 10
	progPINAdded         = 2
	progPINDeleted       = 3
	progPINChanged       = 4
	srcKeypad            = 0
	srcRF                = 1
	srcManual            = 2
	srcIndeterminate     = 0xff
	userStatusAvailable  = 0
	userStatusEnabled    = 1
	lockStateNotFully    = 0
	lockStateLocked      = 1
	lockStateUnlocked    = 2
	batteryFullHalfSteps = 200 // batteryPercentageRemaining counts half percents
)

// fromZigbee's lock_operation_event lookup.
var operationNames = map[int]string{0: "unknown", 1: "lock", 2: "unlock", 3: "lock_failure_invalid_pin_or_id",
	4: "lock_failure_invalid_schedule", 5: "unlock_failure_invalid_pin_or_id", 6: "unlock_failure_invalid_schedule",
	7: "one_touch_lock", 8: "key_lock", 9: "key_unlock", 10: "auto_lock", 11: "schedule_lock", 12: "schedule_unlock",
	13: "manual_lock", 14: "manual_unlock", 15: "non_access_user_operational_event"}

// fromZigbee's lock_programming_event lookup.
var programmingNames = map[int]string{0: "unknown", 1: "master_code_changed", 2: "pin_code_added", 3: "pin_code_deleted",
	4: "pin_code_changed", 5: "rfid_code_added", 6: "rfid_code_deleted"}

// constants.lockSourceName.
var sourceNames = map[int]string{0: "keypad", 1: "rf", 2: "manual", 3: "rfid", 4: "fingerprint"}

// constants.lockUserStatus.
var userStatusNames = map[int]string{0: "available", 1: "enabled", 3: "disabled"}

// eventFields is what the operation and programming converters publish: the action, the
// user, the source and its name (absent when the source has none).
func eventFields(action string, user, source int) map[string]any {
	m := map[string]any{"action": action, "action_user": user, "action_source": source}
	if name, ok := sourceNames[source]; ok {
		m["action_source_name"] = name
	}
	return m
}

// convertOperation is fromZigbee's lock_operation_event.
func convertOperation(ev operationEvent) map[string]any {
	return eventFields(operationNames[ev.Code], ev.User, ev.Source)
}

// convertProgramming is fromZigbee's lock_programming_event.
func convertProgramming(ev programmingEvent) map[string]any {
	return eventFields(programmingNames[ev.Code], ev.User, ev.Source)
}

// convertLockState is fromZigbee's lock for a lockState report.
func convertLockState(lockState int) map[string]any {
	state := "UNLOCK"
	if lockState == lockStateLocked {
		state = "LOCK"
	}
	return map[string]any{"state": state, "lock_state": []string{"not_fully_locked", "locked", "unlocked"}[lockState]}
}

// convertBattery is fromZigbee's battery for a batteryPercentageRemaining report (half
// percents; 255 is "unknown" and converts to nothing).
func convertBattery(halfPercents int) map[string]any {
	if halfPercents >= 255 {
		return map[string]any{}
	}
	return map[string]any{"battery": float64(halfPercents) / 2}
}

// convertPINResponse is fromZigbee's lock_pin_code_response: the user's status, and its
// PIN with expose_pin.
func convertPINResponse(r pinCodeResponse, exposePIN bool) map[string]any {
	status, ok := userStatusNames[r.Status]
	if !ok {
		status = "not_supported_" + itoa(r.Status)
	}
	user := map[string]any{"status": status}
	if exposePIN && r.PIN != "" {
		user["pin_code"] = r.PIN
	}
	return map[string]any{"users": map[string]any{itoa(r.User): user}}
}
