package zwavejs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The zwave-js-server API schemas this driver speaks. It needs 29 or later, where a
// node removed event carries its reason (5: reset locally) and set_value answers with
// its status; it was written against 50 (zwave-js-server 3.10).
const (
	minSchema = 29
	maxSchema = 50
)

// Command classes the driver reads (protocols.md §1.1).
const (
	ccDoorLock     = 98
	ccUserCode     = 99
	ccNotification = 113
	ccBattery      = 128
)

// Door Lock modes: what currentMode and targetMode hold.
const (
	modeUnsecured = 0x00
	modeSecured   = 0xff
)

// maxMessage bounds one message from the server: a start_listening answer for a large
// network is the biggest (a few MB at most).
const maxMessage = 32 << 20

// versionMsg is the server's greeting.
type versionMsg struct {
	DriverVersion string `json:"driverVersion"`
	ServerVersion string `json:"serverVersion"`
	HomeID        uint32 `json:"homeId"`
	MinSchema     int    `json:"minSchemaVersion"`
	MaxSchema     int    `json:"maxSchemaVersion"`
}

// resultMsg answers one command.
type resultMsg struct {
	MessageID         string          `json:"messageId"`
	Success           bool            `json:"success"`
	Result            json.RawMessage `json:"result"`
	ErrorCode         string          `json:"errorCode"`
	ZWaveErrorCode    int             `json:"zwaveErrorCode"`
	ZWaveErrorMessage string          `json:"zwaveErrorMessage"`
	Message           string          `json:"message"`
}

// eventMsg is something that happened on the network, pushed after start_listening.
type eventMsg struct {
	Source        string          `json:"source"`
	Event         string          `json:"event"`
	NodeID        int             `json:"nodeId"`
	EndpointIndex int             `json:"endpointIndex"`
	CCID          int             `json:"ccId"`
	Args          json.RawMessage `json:"args"`
	Node          *wireNode       `json:"node"`
	NodeState     *wireNode       `json:"nodeState"` // with ready: the node as interviewed
	Reason        *int            `json:"reason"`
}

// message is one parsed message from the server: exactly one of its fields is set.
type message struct {
	version *versionMsg
	result  *resultMsg
	event   *eventMsg
}

// parseMessage reads one WebSocket message from the server. Everything in it is outside
// input: a message of an unknown type, or one missing what its type needs, is an error
// the caller logs and skips (the connection goes on).
func parseMessage(b []byte) (message, error) {
	if len(b) > maxMessage {
		return message{}, fmt.Errorf("message of %d bytes is larger than %d", len(b), maxMessage)
	}
	var head struct {
		Type  string          `json:"type"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return message{}, fmt.Errorf("not a JSON object: %w", err)
	}
	switch head.Type {
	case "version":
		var v versionMsg
		if err := json.Unmarshal(b, &v); err != nil {
			return message{}, fmt.Errorf("version message: %w", err)
		}
		if v.MinSchema < 0 || v.MaxSchema < v.MinSchema || v.MaxSchema > 10000 {
			return message{}, fmt.Errorf("version message gives schemas %d to %d", v.MinSchema, v.MaxSchema)
		}
		return message{version: &v}, nil
	case "result":
		var r resultMsg
		if err := json.Unmarshal(b, &r); err != nil {
			return message{}, fmt.Errorf("result message: %w", err)
		}
		if r.MessageID == "" || len(r.MessageID) > 64 {
			return message{}, fmt.Errorf("result message without a usable messageId")
		}
		return message{result: &r}, nil
	case "event":
		var e eventMsg
		if len(head.Event) == 0 || bytes.Equal(head.Event, []byte("null")) {
			return message{}, fmt.Errorf("event message without an event")
		}
		if err := json.Unmarshal(head.Event, &e); err != nil {
			return message{}, fmt.Errorf("event message: %w", err)
		}
		if e.Source == "" || e.Event == "" {
			return message{}, fmt.Errorf("event message without its source or name")
		}
		if e.NodeState != nil && e.NodeState.NodeID != e.NodeID {
			e.NodeState = nil // a dump of another node than the event's: not taken
		}
		if e.NodeID < 0 || e.NodeID > maxNodeID || e.Node != nil && (e.Node.NodeID < 1 || e.Node.NodeID > maxNodeID) {
			return message{}, fmt.Errorf("event message names node %d, outside 1 to %d", e.NodeID, maxNodeID)
		}
		return message{event: &e}, nil
	}
	return message{}, fmt.Errorf("message of unknown type %q", truncate(head.Type, 40))
}

// maxNodeID is the largest node id in a Z-Wave network (Long Range goes to 4000).
const maxNodeID = 4000

// wireNode is a node as the server dumps it (start_listening, node added).
type wireNode struct {
	NodeID         int         `json:"nodeId"`
	Ready          bool        `json:"ready"`
	Status         int         `json:"status"` // 0 unknown, 1 asleep, 2 awake, 3 dead, 4 alive
	ManufacturerID int         `json:"manufacturerId"`
	ProductType    int         `json:"productType"`
	ProductID      int         `json:"productId"`
	Label          string      `json:"label"`
	Name           string      `json:"name"`
	Location       string      `json:"location"`
	FirmwareVer    string      `json:"firmwareVersion"`
	DeviceConfig   *wireConfig `json:"deviceConfig"`
	Values         []wireValue `json:"values"`
}

type wireConfig struct {
	Manufacturer string `json:"manufacturer"`
	Label        string `json:"label"`
	Description  string `json:"description"`
}

// Node statuses as the server numbers them.
const (
	statusDead = 3
)

// wireValue is one value of a node, as dumped and as updated.
type wireValue struct {
	CommandClass int             `json:"commandClass"`
	Endpoint     int             `json:"endpoint"`
	Property     json.RawMessage `json:"property"`
	PropertyKey  json.RawMessage `json:"propertyKey"`
	Value        json.RawMessage `json:"value"`
	NewValue     json.RawMessage `json:"newValue"`
	PrevValue    json.RawMessage `json:"prevValue"`
}

// prop returns a value's property as a string (a name, or a number written out).
func (v wireValue) prop() string { return rawKey(v.Property) }

// key returns a value's property key as a string ("" when it has none).
func (v wireValue) key() string { return rawKey(v.PropertyKey) }

func rawKey(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// intValue reads a JSON number that must be a whole number within [lo, hi].
func intValue(raw json.RawMessage, lo, hi int) (int, bool) {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil || f != float64(int(f)) {
		return 0, false
	}
	n := int(f)
	return n, n >= lo && n <= hi
}

// listenState is what start_listening answers.
type listenState struct {
	State struct {
		Controller struct {
			HomeID    uint32 `json:"homeId"`
			OwnNodeID int    `json:"ownNodeId"`
		} `json:"controller"`
		Nodes []wireNode `json:"nodes"`
	} `json:"state"`
}

// parseListenState reads a start_listening answer; nodes with impossible ids are
// dropped, and so is a second node with the same id.
func parseListenState(raw json.RawMessage) (*listenState, error) {
	var s listenState
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("start_listening answer: %w", err)
	}
	seen := map[int]bool{}
	kept := s.State.Nodes[:0]
	for _, n := range s.State.Nodes {
		if n.NodeID < 1 || n.NodeID > maxNodeID || seen[n.NodeID] {
			continue
		}
		seen[n.NodeID] = true
		kept = append(kept, n)
	}
	s.State.Nodes = kept
	return &s, nil
}

// notificationArgs are a Notification CC event's arguments.
type notificationArgs struct {
	Type       int             `json:"type"`
	Event      int             `json:"event"`
	Label      string          `json:"label"`
	EventLabel string          `json:"eventLabel"`
	Parameters json.RawMessage `json:"parameters"`
}

// userID reads the slot a notification names ({"userId":N}), or 0.
func (a notificationArgs) userID() int {
	var p struct {
		UserID json.RawMessage `json:"userId"`
	}
	if json.Unmarshal(a.Parameters, &p) != nil {
		return 0
	}
	n, ok := intValue(p.UserID, 1, 0xffff)
	if !ok {
		return 0
	}
	return n
}

// userCodeAnswer is what the User Code CC API's get answers.
type userCodeAnswer struct {
	Response *struct {
		UserIDStatus *int   `json:"userIdStatus"`
		UserCode     string `json:"userCode"`
	} `json:"response"`
}

// parseUserCode reads a User Code get answer: whether the slot holds a code, and the
// code where the lock tells it. A status the lock marks as not available is an error.
func parseUserCode(raw json.RawMessage) (pin string, present bool, err error) {
	var a userCodeAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", false, fmt.Errorf("user code answer: %w", err)
	}
	if a.Response == nil || a.Response.UserIDStatus == nil {
		return "", false, fmt.Errorf("user code answer without a status")
	}
	switch st := *a.Response.UserIDStatus; st {
	case 0: // available
		return "", false, nil
	case 1, 2, 3, 4: // enabled, disabled, messaging, passage mode
		pin = a.Response.UserCode
		if !validPIN(pin) {
			pin = "" // masked or unreadable: the slot is occupied, its code withheld
		}
		return pin, true, nil
	default:
		return "", false, fmt.Errorf("user code answer with status %d (not available)", st)
	}
}

// validPIN reports whether a PIN is one a User Code slot takes: 4 to 10 digits.
func validPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 10 {
		return false
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// numberAnswer reads an invoke_cc_api answer that is a whole number (a checksum, a count).
func numberAnswer(raw json.RawMessage, lo, hi int) (int, error) {
	var a struct {
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return 0, fmt.Errorf("answer: %w", err)
	}
	n, ok := intValue(a.Response, lo, hi)
	if !ok {
		return 0, fmt.Errorf("answer %s is not a whole number from %d to %d", truncate(string(a.Response), 40), lo, hi)
	}
	return n, nil
}

// setValueAnswer reads a node.set_value answer's status (SetValueStatus).
func setValueAnswer(raw json.RawMessage) (int, error) {
	var a struct {
		Result struct {
			Status json.RawMessage `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return 0, fmt.Errorf("set_value answer: %w", err)
	}
	n, ok := intValue(a.Result.Status, 0, 255)
	if !ok {
		return 0, fmt.Errorf("set_value answer without a status")
	}
	return n, nil
}

// SetValueStatus values a set_value answer can carry (zwave-js SetValueStatus).
const (
	setValueWorking             = 1
	setValueSuccessUnsupervised = 254
	setValueSuccess             = 255
)

// truncate cuts a string from outside to n runes of valid text, for messages and logs.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// startedAnswer reads begin_inclusion's and begin_exclusion's answer: {"success":true}
// when the controller started.
func startedAnswer(raw []byte) bool {
	var a struct {
		Success bool `json:"success"`
	}
	return json.Unmarshal(raw, &a) == nil && a.Success
}
