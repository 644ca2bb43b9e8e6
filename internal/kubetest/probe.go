package kubetest

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// startProbe runs the container's HTTP readiness probe against the pod IP until the process
// exits; a container without one is ready as soon as it runs.
func (r *podRun) startProbe() {
	c := r.pod.Spec.Containers[0]
	p := c.ReadinessProbe
	if p == nil || p.HTTPGet == nil {
		r.mu.Lock()
		r.st.ready = r.st.running
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.probeStop = cancel
	r.mu.Unlock()
	url := "http://" + net.JoinHostPort(r.ip, strconv.Itoa(probePort(c, p.HTTPGet))) + p.HTTPGet.Path
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	go r.probeLoop(ctx, url, time.Duration(p.InitialDelaySeconds)*time.Second, period)
}

func (r *podRun) probeLoop(ctx context.Context, url string, delay, period time.Duration) {
	client := &http.Client{Timeout: time.Second}
	wait := delay
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = period
		ok := false
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			ok = resp.StatusCode >= 200 && resp.StatusCode < 400
		}
		r.mu.Lock()
		changed := r.st.running && r.st.ready != ok
		if changed {
			r.st.ready = ok
		}
		r.mu.Unlock()
		if changed {
			r.update()
		}
	}
}

func probePort(c corev1.Container, g *corev1.HTTPGetAction) int {
	if g.Port.IntValue() > 0 {
		return g.Port.IntValue()
	}
	for _, p := range c.Ports {
		if p.Name == g.Port.String() {
			return int(p.ContainerPort)
		}
	}
	return 0
}
