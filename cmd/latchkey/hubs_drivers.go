package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/zigbee2mqtt"
	"github.com/latchkey/latchkey/zwavejs"
)

// The hub drivers this program runs, by name: a hub record of that driver (latchkey hub
// add) makes one from its URL and secret. A nil closer leaves closing to the driver.
func init() {
	registerHubDriver(latchkey.DriverZWaveJS, func(ctx context.Context, h *latchkey.Hub, secret string, log *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
		return &zwavejs.Driver{URL: h.URL, Logger: log}, nil, nil
	})
	registerHubDriver(latchkey.DriverZigbee2MQTT, func(ctx context.Context, h *latchkey.Hub, secret string, log *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
		return &zigbee2mqtt.Driver{Broker: h.URL, BaseTopic: h.BaseTopic, Username: h.Username, Password: secret, Logger: log}, nil, nil
	})
}
