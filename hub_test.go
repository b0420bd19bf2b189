package latchkey_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestParseHubURL(t *testing.T) {
	ok := []struct {
		driver    latchkey.Driver
		raw, want string
	}{
		{latchkey.DriverZWaveJS, "ws://zwave-js-ui.local:3000", "ws://zwave-js-ui.local:3000"},
		{latchkey.DriverZWaveJS, " WSS://[::1]:3000/api ", "wss://[::1]:3000/api"},
		{latchkey.DriverZigbee2MQTT, "mqtt://broker:1883", "mqtt://broker:1883"},
		{latchkey.DriverZigbee2MQTT, "mqtts://broker:8883/", "mqtts://broker:8883/"},
		{latchkey.DriverZigbee2MQTT, "tcp://10.0.0.2:1883", "tcp://10.0.0.2:1883"},
		{latchkey.DriverZigbee2MQTT, "ssl://broker", "ssl://broker"},
		{latchkey.DriverZigbee2MQTT, "ws://broker:9001/mqtt", "ws://broker:9001/mqtt"},
		{latchkey.DriverZigbee2MQTT, "mqtt://xn--nicode-fxa.lan:1883", "mqtt://xn--nicode-fxa.lan:1883"},
		{latchkey.DriverZigbee2MQTT, "mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1883"},
		{latchkey.DriverZigbee2MQTT, "mqtt://192.168.1.5:1883", "mqtt://192.168.1.5:1883"},
	}
	for _, tt := range ok {
		got, err := latchkey.ParseHubURL(tt.driver, tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("ParseHubURL(%s, %q) = %q, %v; want %q", tt.driver, tt.raw, got, err, tt.want)
		}
	}
	bad := []struct {
		name   string
		driver latchkey.Driver
		raw    string
		want   string
	}{
		{"ErrEmpty", latchkey.DriverZWaveJS, " ", "ws://host:3000"},
		{"ErrMQTTForZWave", latchkey.DriverZWaveJS, "mqtt://broker:1883", "ws:// or wss://"},
		{"ErrHTTPForZigbee", latchkey.DriverZigbee2MQTT, "http://broker:8080", "mqtt://, mqtts://"},
		{"ErrNoScheme", latchkey.DriverZigbee2MQTT, "broker:1883", "starts with"},
		{"ErrNoHost", latchkey.DriverZigbee2MQTT, "mqtt://:1883", "names no host"},
		{"ErrPort", latchkey.DriverZWaveJS, "ws://host:99999", "not a port"},
		{"ErrFragment", latchkey.DriverZWaveJS, "ws://host:3000/#x", "fragment"},
		{"ErrMQTTPath", latchkey.DriverZigbee2MQTT, "mqtt://broker:1883/zigbee2mqtt", "host and a port only"},
		{"ErrQuery", latchkey.DriverZWaveJS, "ws://h:3000/?token=abc", "Leave the query"},
		{"ErrEmptyQuery", latchkey.DriverZWaveJS, "ws://h:3000/?", "Leave the query"},
		{"ErrSpaces", latchkey.DriverZWaveJS, "ws://ho st:3000", "spaces"},
		{"ErrUnknownDriver", latchkey.Driver("zha"), "ws://host", "zwavejs (Z-Wave JS) or zigbee2mqtt"},
		{"ErrSimIsNoHub", latchkey.DriverSim, "ws://host", "not \"sim\""},
		{"ErrUnicodeHost", latchkey.DriverZigbee2MQTT, "mqtt://ünïcode.lan:1883", "xn--"},
		{"ErrUnicodeHostEncoded", latchkey.DriverZWaveJS, "ws://%C3%BCn.lan:3000", "xn--"},
		{"ErrMetadata", latchkey.DriverZigbee2MQTT, "mqtt://169.254.169.254:1883", "link-local"},
		{"ErrLinkLocal6", latchkey.DriverZWaveJS, "ws://[fe80::1]:3000", "link-local"},
		{"ErrMapped", latchkey.DriverZWaveJS, "ws://[::ffff:169.254.169.254]:3000", "link-local"},
		{"ErrUnspecified", latchkey.DriverZigbee2MQTT, "mqtt://0.0.0.0:1883", "no single machine"},
		{"ErrUnspecified6", latchkey.DriverZigbee2MQTT, "mqtt://[::]:1883", "no single machine"},
		{"ErrMulticast", latchkey.DriverZigbee2MQTT, "mqtt://224.0.0.1:1883", "no single machine"},
		{"ErrBroadcast", latchkey.DriverZigbee2MQTT, "mqtt://255.255.255.255:1883", "no single machine"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := latchkey.ParseHubURL(tt.driver, tt.raw)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), tt.want) {
				t.Fatalf("got %v, want invalid mentioning %q", err, tt.want)
			}
		})
	}
	t.Run("ErrCredentials", func(t *testing.T) {
		for _, raw := range []string{"mqtt://user:hunter2secret@broker:1883", "mqtt://hunter2secret@broker", "ftp://u:hunter2secret@x"} {
			_, err := latchkey.ParseHubURL(latchkey.DriverZigbee2MQTT, raw)
			msg := latchkey.ErrorMessage(err)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(msg, "--username and --password-stdin") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("%q: got %v; want a refusal that says where credentials go and never repeats them", raw, err)
			}
		}
	})
}

func FuzzParseHubURL(f *testing.F) {
	for _, s := range []string{"ws://host:3000", "mqtt://u:p@broker:1883", "mqtts://[::1]:8883/", "wss://h/a?b=c", "tcp://h:0", "%zz", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, zwave bool) {
		d := latchkey.DriverZigbee2MQTT
		if zwave {
			d = latchkey.DriverZWaveJS
		}
		got, err := latchkey.ParseHubURL(d, raw)
		if err != nil {
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("error code %q", latchkey.ErrorCode(err))
			}
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				if p, set := u.User.Password(); set && len(p) > 3 && strings.Contains(err.Error(), p) {
					t.Fatalf("the refusal repeats the password: %v", err)
				}
			}
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.User != nil || u.Hostname() == "" || u.Fragment != "" {
			t.Fatalf("accepted %q as %q", raw, got)
		}
		if again, err := latchkey.ParseHubURL(d, got); err != nil || again != got {
			t.Fatalf("%q is not stable: %q, %v", got, again, err)
		}
	})
}
