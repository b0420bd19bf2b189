package latchkey

import "context"

// DeviceInfo is a device as its hub lists it: enough to tell which lock it is (the
// catalog's Z-Wave or Zigbee ids) and whether it can be reached now. Drivers fill it
// from what the hub reports, which is outside input: the ids identify, they do not
// authorise anything.
type DeviceInfo struct {
	Driver Driver `json:"driver"`
	// Address is what the driver's commands take (Connection.Address): a Z-Wave node id,
	// a Zigbee2MQTT friendly name, a twin's name.
	Address string `json:"address"`
	// Name is the hub's name for the device, for people (may equal Address).
	Name string `json:"name,omitempty"`
	// ZWaveManufacturer, ZWaveProductType and ZWaveProductID are a Z-Wave device's ids
	// (catalog.ByZWave); zero on other radios.
	ZWaveManufacturer uint16 `json:"zwave_manufacturer,omitempty"`
	ZWaveProductType  uint16 `json:"zwave_product_type,omitempty"`
	ZWaveProductID    uint16 `json:"zwave_product_id,omitempty"`
	// ZigbeeModel and ZigbeeManufacturer are a Zigbee device's model identifier and
	// manufacturer name (catalog.ByZigbee); empty on other radios.
	ZigbeeModel        string `json:"zigbee_model,omitempty"`
	ZigbeeManufacturer string `json:"zigbee_manufacturer,omitempty"`
	// Online says whether the hub can reach the device now, as far as it knows.
	Online bool `json:"online"`
	// BatteryPercent is the battery level the hub last heard, 1 to 100; 0 when unknown.
	BatteryPercent int `json:"battery_percent,omitempty"`
}

// IsZWave reports whether the device carries Z-Wave ids.
func (d DeviceInfo) IsZWave() bool { return d.ZWaveManufacturer != 0 }

// IsZigbee reports whether the device carries a Zigbee model identifier.
func (d DeviceInfo) IsZigbee() bool { return d.ZigbeeModel != "" }

// DeviceLister is a driver that can list the devices its hub knows, for adopting locks
// already paired with it.
type DeviceLister interface {
	// Devices lists every device the hub knows, locks or not, in the hub's order. It
	// returns EUNAVAILABLE when the hub cannot be reached before ctx ends.
	Devices(ctx context.Context) ([]DeviceInfo, error)
}

// BatteryMVFromPercent turns a hub's battery percentage into the 4×AA pack's voltage
// LockState keeps: the inverse of LockState.BatteryPercent (6.2 V at 100 %, 4.2 V at 0).
// Zigbee and Z-Wave locks report a percentage, not a voltage; 0 (unknown) stays 0, and a
// value outside 0 to 100 is not a reading.
func BatteryMVFromPercent(pct int) int {
	if pct <= 0 || pct > 100 {
		return 0
	}
	return 4200 + pct*20
}
