package http

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// hubCollector exports the hubs' health, read at each scrape: one series per configured
// hub's driver. latchkey_hub_last_message_seconds is a Unix time (0 when the hub was
// never heard from), so that an alert on time() - it catches a hub gone quiet.
type hubCollector struct{ hubs latchkey.HubHealth }

var (
	hubUpDesc   = prometheus.NewDesc("latchkey_hub_up", "Whether the hub's driver reaches its hub now (1) or not (0), per configured hub.", []string{"driver"}, nil)
	hubSeenDesc = prometheus.NewDesc("latchkey_hub_last_message_seconds", "When the hub was last heard from (an event, or a command answered), in Unix seconds; 0 when never.", []string{"driver"}, nil)
)

// Describe sends the descriptions of the hub metrics.
func (c hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hubUpDesc
	ch <- hubSeenDesc
}

// Collect sends each configured hub's health.
func (c hubCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.hubs.HubStatuses() {
		if st.HubID == 0 {
			continue // no hub of this driver: nothing to say is up or down
		}
		up, seen := 0.0, 0.0
		if st.Connected {
			up = 1
		}
		if st.LastMessageAt != nil {
			seen = float64(st.LastMessageAt.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(hubUpDesc, prometheus.GaugeValue, up, string(st.Driver))
		ch <- prometheus.MustNewConstMetric(hubSeenDesc, prometheus.GaugeValue, seen, string(st.Driver))
	}
}
