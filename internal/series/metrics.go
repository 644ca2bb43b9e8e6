package series

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	usageLabels = []string{"service", "revision", "instance"}
	descCPU     = prometheus.NewDesc("cutover_instance_cpu_seconds_total",
		"CPU time used by an instance's process on this host, as last read.", usageLabels, nil)
	descMemory = prometheus.NewDesc("cutover_instance_resident_memory_bytes",
		"Resident memory of an instance's process on this host, as last read.", usageLabels, nil)
)

// Collector returns a Prometheus collector of the instances' newest usage readings.
func (r *Recorder) Collector() prometheus.Collector { return usageCollector{r} }

type usageCollector struct{ r *Recorder }

func (c usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCPU
	ch <- descMemory
}

func (c usageCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	seen := make(map[string]Usage, len(c.r.usage))
	for id, u := range c.r.usage {
		seen[id] = u.read
	}
	c.r.mu.Unlock()
	for id, u := range seen {
		labels := []string{u.Service, strconv.Itoa(u.Revision), id}
		ch <- prometheus.MustNewConstMetric(descCPU, prometheus.CounterValue, u.CPU.Seconds(), labels...)
		ch <- prometheus.MustNewConstMetric(descMemory, prometheus.GaugeValue, float64(u.Memory), labels...)
	}
}
