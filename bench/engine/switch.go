package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/proxy"
)

// swap is one measured blue-green switch: SetTargets was called at t0 and returned at t1.
type swap struct {
	t0, t1 time.Duration
	to     string
}

// benchSwitch measures the blue-green switch through the proxy package directly: two demo
// app instances (blue, green) behind one route, all weight moved from one to the other with
// one SetTargets call, timed around the call, while a tight request loop checks that no
// request started after the call returned reached the old color.
func benchSwitch(ctx context.Context, r *runEnv) ([]Row, error) {
	blue, err := startApp(ctx, r.app, "blue")
	if err != nil {
		return nil, err
	}
	defer blue.Stop()
	green, err := startApp(ctx, r.app, "green")
	if err != nil {
		return nil, err
	}
	defer green.Stop()
	groups := func(to string) []proxy.Group {
		bw, gw := 100, 0
		if to == "green" {
			bw, gw = 0, 100
		}
		return []proxy.Group{
			{Revision: 1, Weight: bw, Targets: []proxy.Target{{ID: "blue", Addr: blue.Addr}}},
			{Revision: 2, Weight: gw, Targets: []proxy.Target{{ID: "green", Addr: green.Addr}}},
		}
	}
	p, url, stopProxy, err := r.startSwitchProxy(ctx, groups("blue"))
	if err != nil {
		return nil, err
	}
	defer stopProxy()

	const interval = 10 * time.Millisecond
	base := time.Now()
	loop, err := startLoop(ctx, url, 4, 1<<20, time.Duration(r.flags.switches)*interval+30*time.Second, base)
	if err != nil {
		return nil, err
	}
	_ = machine.Sleep(ctx, 100*time.Millisecond)
	swaps := make([]swap, 0, r.flags.switches)
	for i := range r.flags.switches {
		to := "green"
		if i%2 == 1 {
			to = "blue"
		}
		g := groups(to)
		t0 := time.Since(base)
		p.SetTargets("switch", g, 0)
		t1 := time.Since(base)
		swaps = append(swaps, swap{t0, t1, to})
		if machine.Sleep(ctx, interval) != nil {
			break
		}
	}
	samples := loop.stop()
	return switchRows(r, swaps, samples), nil
}

// switchRows checks every sample against the swaps and builds the rows.
func switchRows(r *runEnv, swaps []swap, samples []sample) []Row {
	var durs []time.Duration
	wrong, checked, failed := 0, 0, 0
	for _, s := range samples {
		if s.failed {
			failed++
		}
	}
	for k, sw := range swaps {
		durs = append(durs, sw.t1-sw.t0)
		end := time.Duration(1<<63 - 1)
		if k+1 < len(swaps) {
			end = swaps[k+1].t0
		}
		for _, s := range samples {
			// The proxy reads its table between a request's start and end, so only a
			// request that ended before the next swap began is bound to this one.
			if s.start > sw.t1 && s.end < end && s.answered() {
				checked++
				if s.version != sw.to {
					wrong++
					if r.flags.verbose && wrong <= 5 {
						r.logf("  debug: swap %d to %s [%s,%s] next %s; sample %s..%s got %s", k, sw.to, sw.t0, sw.t1, end, s.start, s.end, s.version)
					}
				}
			}
		}
	}
	r.logf("  %d swaps, %d requests in the loop (%d failed), %d started after a swap returned, %d of those on the old color",
		len(swaps), len(samples), failed, checked, wrong)
	p99 := quantile(durs, 0.99)
	b := "3 switch"
	return []Row{
		{b, "SetTargets swap median / p99 / max", fmt.Sprintf("%s / %s / %s", us(median(durs)), us(p99), us(maxOf(durs))),
			"< 1 ms", verdict(p99 < time.Millisecond),
			fmt.Sprintf("proxy package directly (proxy.New, SetRoute, SetTargets; 2 demo app upstreams); %d swaps, verdict on p99", len(durs))},
		{b, "requests started after the swap returned that reached the old color", fmt.Sprintf("%d of %d", wrong, checked),
			"0", verdict(wrong == 0 && checked > 0), fmt.Sprintf("4 keep-alive workers in a tight loop; %d failed requests", failed)},
	}
}

// startSwitchProxy runs a proxy with one route, service "switch", on a free loopback port,
// with the groups as its targets, and waits until it serves.
func (r *runEnv) startSwitchProxy(ctx context.Context, groups []proxy.Group) (*proxy.Proxy, string, func(), error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, "", nil, err
	}
	p := proxy.New(r.logger.With("bench", "switch"), proxy.Config{})
	if err := p.SetRoute(proxy.Route{Service: "switch", Listen: listen}); err != nil {
		return nil, "", nil, fmt.Errorf("set route: %w", err)
	}
	p.SetTargets("switch", groups, 0)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	stop := func() { cancel(); <-done }
	url := "http://" + listen + "/"
	if err := waitServing(ctx, url, 5*time.Second); err != nil {
		stop()
		return nil, "", nil, err
	}
	return p, url, stop, nil
}

// waitServing polls url until it answers 200, for at most limit.
func waitServing(ctx context.Context, url string, limit time.Duration) error {
	client := &http.Client{Transport: loopTransport(1), Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s not serving within %s", url, limit), err)
		}
		if err := machine.Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
}
