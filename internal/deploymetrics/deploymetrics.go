// Package deploymetrics exports deployment-level series for Prometheus next to the proxy's:
// deployments started and ended by outcome, canary verdicts by outcome and deciding rule, and
// each service's running deployment (strategy, step). It reads the recorded events (the
// store's history, so counts include deployments before this daemon started) and the
// services' state at scrape time; it changes nothing and starts no goroutine.
package deploymetrics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cutover/cutover/internal/api"
)

// Source is what the collector reads: the event history, a deployment and the services.
type Source interface {
	Events(ctx context.Context, q api.EventQuery) ([]api.Event, error)
	Deployment(ctx context.Context, id int64) (api.Deployment, error)
	Services(ctx context.Context) ([]api.Service, error)
}

// pageSize and maxPages bound what one scrape reads of the history; what is left is read by
// the next scrape.
const (
	pageSize = 500
	maxPages = 40
	timeout  = 5 * time.Second
)

// Collector is a prometheus.Collector over a Source. It is safe for concurrent scrapes.
type Collector struct {
	src      Source
	mu       sync.Mutex
	after    int64
	started  map[string]float64    // service
	ended    map[[2]string]float64 // service, outcome
	verdicts map[[3]string]float64 // service, outcome, rule

	startedDesc, endedDesc, verdictDesc, activeDesc, stepDesc *prometheus.Desc
}

// New returns a collector over src.
func New(src Source) *Collector {
	return &Collector{src: src, started: map[string]float64{}, ended: map[[2]string]float64{}, verdicts: map[[3]string]float64{},
		startedDesc: prometheus.NewDesc("cutover_deployments_started_total", "Deployments started.", []string{"service"}, nil),
		endedDesc: prometheus.NewDesc("cutover_deployments_total",
			"Deployments ended, by outcome: succeeded, failed, rolled_back or aborted.", []string{"service", "outcome"}, nil),
		verdictDesc: prometheus.NewDesc("cutover_canary_verdicts_total",
			"Final canary verdicts of ended deployments, by outcome (pass, fail, inconclusive) and deciding rule.",
			[]string{"service", "outcome", "rule"}, nil),
		activeDesc: prometheus.NewDesc("cutover_deployment_active",
			"1 while the service has a running or paused deployment.", []string{"service", "strategy", "status"}, nil),
		stepDesc: prometheus.NewDesc("cutover_deployment_step",
			"The current step (0-based) of the service's running deployment.", []string{"service", "strategy"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.startedDesc, c.endedDesc, c.verdictDesc, c.activeDesc, c.stepDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A source that fails is reported as an invalid
// metric (the scrape shows the error) and what was counted before is still exported.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c.mu.Lock()
	err := c.catchUp(ctx)
	c.export(ch)
	c.mu.Unlock()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.endedDesc, err)
	}
	if err := c.collectActive(ctx, ch); err != nil {
		ch <- prometheus.NewInvalidMetric(c.activeDesc, err)
	}
}

// catchUp counts the events recorded since the last scrape (at most maxPages pages).
func (c *Collector) catchUp(ctx context.Context) error {
	for range maxPages {
		evs, err := c.src.Events(ctx, api.EventQuery{AfterID: c.after, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("deployment metrics: read events: %w", err)
		}
		for _, e := range evs {
			if err := c.count(ctx, e); err != nil {
				return err
			}
			c.after = e.ID
		}
		if len(evs) < pageSize {
			return nil
		}
	}
	return nil
}

// outcomes are the event types that end a deployment, by their outcome label.
var outcomes = map[string]string{"deployment_succeeded": "succeeded", "deployment_failed": "failed",
	"deployment_rolled_back": "rolled_back", "deployment_aborted": "aborted"}

func (c *Collector) count(ctx context.Context, e api.Event) error {
	if e.Type == "deployment_started" {
		c.started[e.Service]++
		return nil
	}
	outcome, ok := outcomes[e.Type]
	if !ok {
		return nil
	}
	c.ended[[2]string{e.Service, outcome}]++
	if e.DeploymentID == 0 {
		return nil
	}
	d, err := c.src.Deployment(ctx, e.DeploymentID)
	if err != nil {
		return fmt.Errorf("deployment metrics: read deployment %d: %w", e.DeploymentID, err)
	}
	if v := d.Verdict; v != nil {
		c.verdicts[[3]string{e.Service, strings.ToLower(v.Outcome), v.Rule}]++
	}
	return nil
}

func (c *Collector) export(ch chan<- prometheus.Metric) {
	for svc, n := range c.started {
		ch <- prometheus.MustNewConstMetric(c.startedDesc, prometheus.CounterValue, n, svc)
	}
	for k, n := range c.ended {
		ch <- prometheus.MustNewConstMetric(c.endedDesc, prometheus.CounterValue, n, k[0], k[1])
	}
	for k, n := range c.verdicts {
		ch <- prometheus.MustNewConstMetric(c.verdictDesc, prometheus.CounterValue, n, k[0], k[1], k[2])
	}
}

func (c *Collector) collectActive(ctx context.Context, ch chan<- prometheus.Metric) error {
	svcs, err := c.src.Services(ctx)
	if err != nil {
		return fmt.Errorf("deployment metrics: read services: %w", err)
	}
	for _, s := range svcs {
		if d := s.Deployment; d != nil && !d.Final() {
			ch <- prometheus.MustNewConstMetric(c.activeDesc, prometheus.GaugeValue, 1, s.Name, d.Strategy, d.Status)
			ch <- prometheus.MustNewConstMetric(c.stepDesc, prometheus.GaugeValue, float64(d.Step), s.Name, d.Strategy)
		}
	}
	return nil
}
