package simdriver

import (
	"context"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/sim"
)

var _ latchkey.DeviceLister = (*Driver)(nil)

// Devices lists the locks the twins' hubs know, hub by hub, with the radio ids a real
// hub would report for their models (the first the catalog lists; for Zigbee the first
// that takes PIN codes). A ghost (a lock reset without telling its hub) and a lock the
// driver found silent are listed offline.
func (d *Driver) Devices(ctx context.Context) ([]latchkey.DeviceInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Gave up listing the twins' devices: %v.", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remember()
	var out []latchkey.DeviceInfo
	for _, h := range d.world.Hubs() {
		for _, m := range h.Members() {
			t, err := d.world.Twin(m.Twin)
			if err != nil {
				continue
			}
			l, ok := t.(*sim.Lock)
			if !ok {
				continue
			}
			info := latchkey.DeviceInfo{Driver: latchkey.DriverSim, Address: m.Twin, Name: m.Twin,
				Online: !m.Ghost && !h.Down() && !d.offline[m.Twin]}
			identify(&info, h.Radio(), l.Model())
			info.BatteryPercent = latchkey.LockState{BatteryMV: twinBattery(d.world, m.Twin)}.BatteryPercent()
			out = append(out, info)
		}
	}
	return out, nil
}

// identify fills in the ids a hub of the radio reports for the model.
func identify(info *latchkey.DeviceInfo, radio string, m *catalog.Model) {
	switch radio {
	case catalog.RadioZWave:
		if len(m.ZWave.Value) > 0 {
			id := m.ZWave.Value[0]
			info.ZWaveManufacturer = catalog.KwiksetZWaveManufacturer
			info.ZWaveProductType, info.ZWaveProductID = hex16(id.Type), hex16(id.ID)
		}
	case catalog.RadioZigbee:
		for i, z := range m.Zigbee.Value {
			if z.PINCodes || i == len(m.Zigbee.Value)-1 {
				info.ZigbeeModel, info.ZigbeeManufacturer = z.Model, "Kwikset"
				break
			}
		}
	}
}

// hex16 reads the catalog's "0x0003" form.
func hex16(s string) uint16 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
	return uint16(n)
}
