package sim

import (
	"sort"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// RemoveFailed is the Z-Wave controller's "remove failed node": it pings the node and
// removes it only if no answer comes, the way to clear the ghost a reset without Device
// Reset Locally leaves behind (facts §4). A node that answers stays; exclude it instead.
func (h *Hub) RemoveFailed(addr string) error {
	if h.radio != catalog.RadioZWave {
		return latchkey.Errorf(latchkey.EINVALID, "Remove-failed is a Z-Wave controller's command; the %s hub has none.", h.radio)
	}
	if h.members[addr] == nil {
		return latchkey.Errorf(latchkey.ENOTFOUND, "The Z-Wave hub has no node %s.", addr)
	}
	h.log("remove failed node %s: pinging it first", addr)
	h.Send(addr, Command{Op: OpPing}, func(r Report) {
		if r.Err == "timeout" {
			h.remove(addr, "failed node removed")
			return
		}
		h.log("node %s answered: it has not failed and stays (exclude it instead)", addr)
	})
	return nil
}

// Delete removes a lock from the Kwikset app (Wi-Fi, Bluetooth) or from the Matter
// fabric. The entry goes at once; a lock that can be reached is told and forgets its
// pairing, so that a reset afterwards leaves no ghost (R3: delete the lock in the app
// first, facts §3.5, §4).
func (h *Hub) Delete(addr string) error {
	switch h.radio {
	case catalog.RadioWiFi, catalog.RadioBLE, catalog.RadioMatter:
	default:
		return latchkey.Errorf(latchkey.EINVALID, "Delete is for the app's and Matter's locks; on %s use exclusion (Z-Wave) or remove-failed.", h.radio)
	}
	if h.members[addr] == nil {
		return latchkey.Errorf(latchkey.ENOTFOUND, "The %s hub has no lock %s.", h.radio, addr)
	}
	l := h.locks[addr]
	why := "deleted in the Kwikset app"
	if h.radio == catalog.RadioMatter {
		why = "removed from the Matter fabric"
	}
	h.remove(addr, why)
	if l != nil && l.reachable(h, addr) {
		h.deliver(h.latencyTo(l, h.w.Now()), func() {
			if l.net != nil && l.net.hub == h && l.net.addr == addr {
				l.net = nil
				l.log(KindState, "%s: pairing cleared", why)
			}
		})
	}
	return nil
}

// lookup finds a member by address, or by the name of its twin. A twin reset without
// telling the hub and then included again has a live entry and a ghost: lookup takes the
// live one, or the lowest-numbered ghost when ghost is set (remove-failed).
func (h *Hub) lookup(name string, ghost bool) (string, bool) {
	if h.members[name] != nil {
		return name, true
	}
	var found []string
	for addr, m := range h.members {
		if m.Twin == name {
			found = append(found, addr)
		}
	}
	sortAddrs(found)
	for _, addr := range found {
		if h.members[addr].Ghost == ghost {
			return addr, true
		}
	}
	if len(found) > 0 {
		return found[0], true
	}
	return "", false
}

// sortAddrs sorts addresses numerically where they are Z-Wave node ids.
func sortAddrs(addrs []string) {
	sort.Slice(addrs, func(i, j int) bool {
		a, errA := strconv.Atoi(addrs[i])
		b, errB := strconv.Atoi(addrs[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return addrs[i] < addrs[j]
	})
}

// Fields lists the names Field answers to, for "expect hub RADIO FIELD VALUE".
func (h *Hub) Fields() []string {
	return []string{"mode", "members", "member:NAME", "alarms", "alarms:TWIN", "alarm:N"}
}

// Field reads one piece of the hub's state: its mode; how many members it lists;
// member:NAME, the entries a twin (or an address) has, as "2", "2 ghost", "2 ghost, 4"
// or "absent"; alarms, every Z-Wave alarm number received, in order ("none" for none);
// alarms:TWIN, those from one twin; alarm:N, how many times alarm N was received.
func (h *Hub) Field(name string) (string, bool) {
	if twin, ok := strings.CutPrefix(name, "member:"); ok {
		var addrs []string
		for addr, m := range h.members {
			if addr == twin || m.Twin == twin {
				addrs = append(addrs, addr)
			}
		}
		if len(addrs) == 0 {
			return "absent", true
		}
		sortAddrs(addrs)
		for i, addr := range addrs {
			if h.members[addr].Ghost {
				addrs[i] += " ghost"
			}
		}
		return strings.Join(addrs, ", "), true
	}
	if n, ok := strings.CutPrefix(name, "alarm:"); ok {
		want, err := strconv.Atoi(n)
		if err != nil || want <= 0 {
			return "", false
		}
		count := 0
		for _, a := range h.alarms {
			if a.n == want {
				count++
			}
		}
		return strconv.Itoa(count), true
	}
	twin, one := strings.CutPrefix(name, "alarms:")
	switch {
	case name == "mode":
		return h.mode, true
	case name == "members":
		return strconv.Itoa(len(h.members)), true
	case name == "alarms" || one:
		var out []string
		for _, a := range h.alarms {
			if !one || a.twin == twin {
				out = append(out, strconv.Itoa(a.n))
			}
		}
		if len(out) == 0 {
			return "none", true
		}
		return strings.Join(out, " "), true
	}
	return "", false
}

// Leave asks a Zigbee lock to leave the network, as a coordinator's "remove device"
// does: the hub drops it at once, and the lock forgets its pairing when the request
// reaches it.
func (h *Hub) Leave(addr string) error {
	if h.radio != catalog.RadioZigbee {
		return latchkey.Errorf(latchkey.EINVALID, "Leave is a Zigbee coordinator's request; on %s use exclusion.", h.radio)
	}
	if h.members[addr] == nil {
		return latchkey.Errorf(latchkey.ENOTFOUND, "The Zigbee hub has no lock %s.", addr)
	}
	l := h.locks[addr]
	h.remove(addr, "asked to leave")
	if l != nil && l.reachable(h, addr) {
		h.deliver(h.latencyTo(l, h.w.Now()), func() {
			if l.net != nil && l.net.hub == h && l.net.addr == addr {
				l.net = nil
				l.log(KindState, "left the Zigbee network on the coordinator's request")
			}
		})
	}
	return nil
}

// HomeHub returns the hub the lock joins (the one it is paired with, or would be).
func (l *Lock) HomeHub() *Hub { return l.home() }
