package health

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Prober runs one instance's probes on their schedules and reports its health. Create it
// with NewProber, then call Run; SetTarget and Reset are safe to call from other goroutines
// while Run runs.
type Prober struct {
	probes  [3]*spec.Probe
	tracker *Tracker // owned by Run's goroutine
	logger  *slog.Logger
	reset   chan struct{}
	// check runs one probe attempt; tests replace it before Run.
	check func(ctx context.Context, p spec.Probe, t Target) error
	// Until their first success, startup and readiness are retried firstRetry after a
	// failure, the wait doubling up to startPeriod (0: at their period); a port that refused
	// the attempt is meanwhile polled for a connection (fastRetry); failures still count
	// only once per period.
	startPeriod, firstRetry time.Duration
	// dial opens a connection for that poll; tests replace it before Run.
	dial func(ctx context.Context, addr string) error

	mu     sync.Mutex
	target Target
}

// observation is one probe outcome; epoch tells outcomes from before a Reset apart.
type observation struct {
	epoch int
	kind  Kind
	err   error
}

// NewProber returns a prober of instance t for probes p (zero parameters take Kubernetes'
// defaults). It starts nothing; a nil logger discards. It has its own HTTP client, which
// keeps no idle connections to the instance.
func NewProber(p spec.Probes, t Target, logger *slog.Logger) *Prober {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pr := &Prober{
		tracker:     NewTracker(p),
		logger:      logger,
		reset:       make(chan struct{}, 1),
		check:       newChecker().check,
		target:      t,
		startPeriod: DefaultStartPeriod,
		firstRetry:  DefaultFirstRetry,
		dial:        dialOnce,
	}
	for _, k := range []Kind{Startup, Readiness, Liveness} {
		pr.probes[k] = probeOf(p, k)
	}
	return pr
}

// A starting instance's startup and readiness probes are retried until they first pass,
// DefaultFirstRetry after the first failure, the wait doubling up to DefaultStartPeriod,
// whatever the probes' period; while the instance's port refuses connections, it is polled
// every few milliseconds (fastRetry) and probed as soon as it accepts one. So a new instance
// gets traffic within a few milliseconds of being able to serve. Failures during that time
// are counted at most once per period, as Kubernetes would count them, so failure_threshold
// keeps its meaning, and only a passing probe makes an instance ready.
const (
	DefaultStartPeriod = 50 * time.Millisecond
	DefaultFirstRetry  = 2 * time.Millisecond
)

// SetTarget changes where later probe attempts go (a new address, env or dir). It does not
// reset the health.
func (p *Prober) SetTarget(t Target) {
	p.mu.Lock()
	p.target = t
	p.mu.Unlock()
}

func (p *Prober) currentTarget() Target {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// Reset tells a running Run that the owner restarted the instance: health returns to its
// initial state and every probe starts over after its initial delay, measured from now.
// It does not block.
func (p *Prober) Reset() {
	select {
	case p.reset <- struct{}{}:
	default: // a reset is already pending
	}
}

// Run probes until ctx is done and returns once all its goroutines have exited. Each probe
// runs on its own goroutine every Period after its InitialDelay (measured from the start of
// Run, or of the last Reset), so a slow probe never delays another kind; readiness and
// liveness run only once the instance has started. report is called from one goroutine
// with the initial health, again after each Reset, and on every change; it should return
// quickly. Once the instance is not live, probing stops until Reset.
func (p *Prober) Run(ctx context.Context, report func(Result)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	select {
	case <-p.reset: // a Reset before Run changes nothing
	default:
	}
	obs := make(chan observation)
	for epoch := 0; p.runEpoch(ctx, epoch, &wg, obs, report); epoch++ {
		p.logger.Info("probes reset")
	}
}

// runEpoch probes from a fresh start until ctx is done (false) or Reset is called (true).
func (p *Prober) runEpoch(ctx context.Context, epoch int, wg *sync.WaitGroup, obs chan observation, report func(Result)) bool {
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	res := p.tracker.Start(start)
	report(res)
	started := make(chan struct{})
	if res.Started {
		close(started)
	}
	for _, k := range []Kind{Startup, Readiness, Liveness} {
		if p.probes[k] != nil {
			wg.Go(func() { p.loop(ectx, epoch, k, start, started, obs) })
		}
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-p.reset:
			return true
		case o := <-obs:
			if o.epoch != epoch {
				continue // an attempt that began before the Reset
			}
			wasStarted := res.Started
			r, changed := p.tracker.ObserveErr(o.kind, o.err, time.Now())
			if !changed {
				continue
			}
			res = r
			p.logger.Info("instance health changed", "started", r.Started, "ready", r.Ready,
				"live", r.Live, "message", r.Message)
			report(r)
			if r.Started && !wasStarted {
				close(started)
			}
			if !r.Live {
				stop() // the owner restarts the instance, then calls Reset
			}
		}
	}
}

// loop runs probe kind every period after its initial delay (and, except for startup,
// after the instance started) until ctx is done; startup stops once it has passed.
func (p *Prober) loop(ctx context.Context, epoch int, kind Kind, start time.Time, started chan struct{}, obs chan<- observation) {
	pr := p.probes[kind]
	delay := time.NewTimer(time.Until(start.Add(pr.InitialDelay.D())))
	defer delay.Stop()
	select {
	case <-delay.C:
	case <-ctx.Done():
		return
	}
	var doneWhen <-chan struct{} // closed when this kind has nothing left to do
	if kind == Startup {
		doneWhen = started
	} else {
		select {
		case <-started:
		case <-ctx.Done():
			return
		}
	}
	period := pr.Period.D()
	fast := kind != Liveness && p.startPeriod > 0 && p.startPeriod < period
	tick := time.NewTicker(period)
	defer tick.Stop()
	retry := newRetry(p.firstRetry, p.startPeriod)
	nextFailure := time.Now() // while fast, failures count once per configured period
	for {
		select {
		case <-doneWhen:
			return
		default:
		}
		t := p.currentTarget()
		raw := p.check(ctx, *pr, t)
		if ctx.Err() != nil {
			return // cancelled mid-attempt: its outcome says nothing about the instance
		}
		err := t.redact(raw)
		if err != nil {
			p.logger.Debug("probe failed", "probe", kind.String(), "error", err)
		}
		counted := true
		switch {
		case fast && err == nil:
			fast = false
			tick.Reset(period)
		case fast && time.Now().Before(nextFailure):
			counted = false
		case fast:
			nextFailure = time.Now().Add(period)
		}
		if counted {
			select {
			case obs <- observation{epoch: epoch, kind: kind, err: err}:
			case <-ctx.Done():
				return
			}
		}
		var more bool
		if fast {
			more = p.waitRetry(ctx, retry, *pr, t, raw, doneWhen)
		} else {
			more = waitTick(ctx, tick, doneWhen)
		}
		if !more {
			return
		}
	}
}

// waitTick waits for the next tick; false when the loop should end.
func waitTick(ctx context.Context, tick *time.Ticker, done <-chan struct{}) bool {
	select {
	case <-tick.C:
		return true
	case <-done:
		return false
	case <-ctx.Done():
		return false
	}
}
