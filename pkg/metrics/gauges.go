package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Emit reports one gauge value with its label values (in the order the
// gauge's labels were declared).
type Emit func(v float64, labelValues ...string)

// gaugeFunc is a labelled gauge read at scrape time: the state it shows
// (mesh members, tolerances, store usage) already lives elsewhere, so the
// serving path pays nothing for it.
type gaugeFunc struct {
	desc *prometheus.Desc
	read func(Emit)
}

func (g *gaugeFunc) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeFunc) Collect(ch chan<- prometheus.Metric) {
	g.read(func(v float64, lv ...string) {
		if m, err := prometheus.NewConstMetric(g.desc, prometheus.GaugeValue, v, lv...); err == nil {
			ch <- m
		}
	})
}

// RegisterGaugeFunc registers dct_<subsystem>_<name>, a gauge with the
// given labels whose values read reports at every scrape. read must be
// cheap and safe for concurrent use; it must keep its label values to a
// bounded set.
func RegisterGaugeFunc(reg prometheus.Registerer, subsystem, name, help string, labels []string, read func(Emit)) {
	reg.MustRegister(&gaugeFunc{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil), read: read})
}
