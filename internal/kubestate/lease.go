package kubestate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ElectorConfig configures leader election over one Lease.
type ElectorConfig struct {
	Namespace, Name string
	// Identity names this replica (its pod name); it must be unique among the candidates.
	Identity string
	// LeaseDuration is how long a lease that is not renewed stays taken (default 15s);
	// RenewDeadline how long the leader keeps acting without a successful renewal
	// (default 2/3 of LeaseDuration); RetryPeriod the wait between tries (default 2s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (c ElectorConfig) withDefaults() ElectorConfig {
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline <= 0 || c.RenewDeadline >= c.LeaseDuration {
		c.RenewDeadline = c.LeaseDuration * 2 / 3
	}
	if c.RetryPeriod <= 0 || c.RetryPeriod >= c.RenewDeadline {
		c.RetryPeriod = min(2*time.Second, c.RenewDeadline/3)
	}
	return c
}

// Elector campaigns for a coordination.k8s.io Lease. The lease is taken with the
// resourceVersion the replica read (two candidates cannot both take it); a lease is free
// when its holder has not renewed it for LeaseDuration as this replica's clock measures it
// (no clocks are compared across machines). The leader stops acting once RenewDeadline has
// passed without a renewal, which is before anyone else may take the lease. Each taking
// increments leaseTransitions: that number is the leader's term, its fencing token.
type Elector struct {
	client kubernetes.Interface
	cfg    ElectorConfig
	logger *slog.Logger

	mu        sync.Mutex
	term      int64
	renewedAt time.Time // last successful renewal, on the local monotonic clock
	leading   bool
}

// NewElector returns an elector; it contacts nothing until Run.
func NewElector(client kubernetes.Interface, cfg ElectorConfig, logger *slog.Logger) (*Elector, error) {
	if cfg.Namespace == "" || cfg.Name == "" || cfg.Identity == "" {
		return nil, errors.New("leader election: namespace, lease name and identity are required")
	}
	return &Elector{client: client, cfg: cfg.withDefaults(), logger: logger}, nil
}

// Leading reports whether this replica holds the lease now, with the term it holds it in.
// A write made on the leader's behalf checks it first.
func (e *Elector) Leading() (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.term, e.leading && time.Since(e.renewedAt) < e.cfg.RenewDeadline
}

// Run campaigns until ctx is done. Each time it takes the lease it calls lead with a context
// that is cancelled when the lease is lost (or ctx is done), and waits for lead to return
// before it campaigns again.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, term int64)) error {
	for ctx.Err() == nil {
		term, err := e.acquire(ctx)
		if err != nil {
			return err
		}
		e.logger.Info("leading", "lease", e.cfg.Name, "identity", e.cfg.Identity, "term", term)
		leadCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			lead(leadCtx, term)
		}()
		e.keep(leadCtx)
		cancel()
		<-done
		e.setLeading(false, 0)
		e.logger.Warn("lost the lease", "lease", e.cfg.Name, "identity", e.cfg.Identity, "term", term)
	}
	e.release()
	return ctx.Err()
}

// acquire tries every RetryPeriod until this replica holds the lease or ctx is done.
func (e *Elector) acquire(ctx context.Context) (int64, error) {
	var seen string // the holder and renew time last seen
	seenAt := time.Now()
	for {
		term, obs, err := e.tryAcquire(ctx, seen, seenAt)
		if err == nil {
			return term, nil
		}
		if obs != seen {
			seen, seenAt = obs, time.Now()
		}
		if !errors.Is(err, errHeld) {
			e.logger.Warn("leader election", "lease", e.cfg.Name, "error", err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(e.cfg.RetryPeriod):
		}
	}
}

var errHeld = errors.New("the lease is held")

// tryAcquire takes the lease when it is absent, released, ours, or not renewed since seenAt
// for LeaseDuration. obs describes the lease as read.
func (e *Elector) tryAcquire(ctx context.Context, seen string, seenAt time.Time) (int64, string, error) {
	leases := e.client.CoordinationV1().Leases(e.cfg.Namespace)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, e.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.cfg.Name}, Spec: e.spec(now, 1)}
		if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
			return 0, "", fmt.Errorf("create lease %s: %w", e.cfg.Name, err)
		}
		e.setLeading(true, 1)
		return 1, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("get lease %s: %w", e.cfg.Name, err)
	}
	holder, obs := "", ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		obs = holder + "@" + l.Spec.RenewTime.String()
	}
	free := holder == "" || holder == e.cfg.Identity || (obs == seen && time.Since(seenAt) >= e.cfg.LeaseDuration)
	if !free {
		return 0, obs, errHeld
	}
	term := int64(1)
	if l.Spec.LeaseTransitions != nil {
		term = int64(*l.Spec.LeaseTransitions) + 1
	}
	l.Spec = e.spec(now, term)
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return 0, obs, fmt.Errorf("take lease %s: %w", e.cfg.Name, err)
	}
	e.setLeading(true, term)
	return term, obs, nil
}

func (e *Elector) spec(now metav1.MicroTime, term int64) coordv1.LeaseSpec {
	id := e.cfg.Identity
	secs := int32(e.cfg.LeaseDuration.Round(time.Second) / time.Second)
	transitions := int32(term)
	return coordv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now,
		LeaseTransitions: &transitions}
}

// keep renews the lease every RetryPeriod and returns when a renewal has not succeeded for
// RenewDeadline, another holder took it, or ctx is done.
func (e *Elector) keep(ctx context.Context) {
	t := time.NewTicker(e.cfg.RetryPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := e.renew(ctx)
		if errors.Is(err, errHeld) {
			e.logger.Warn("the lease has another holder", "lease", e.cfg.Name, "error", err)
			return
		}
		if err != nil {
			e.logger.Warn("renew lease", "lease", e.cfg.Name, "error", err)
		}
		if _, ok := e.Leading(); !ok {
			return
		}
	}
}

func (e *Elector) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline/2)
	defer cancel()
	leases := e.client.CoordinationV1().Leases(e.cfg.Namespace)
	l, err := leases.Get(ctx, e.cfg.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get lease: %w", err)
	}
	term, _ := e.Leading()
	holder, transitions := "", int32(0)
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if l.Spec.LeaseTransitions != nil {
		transitions = *l.Spec.LeaseTransitions
	}
	if holder != e.cfg.Identity || int64(transitions) != term {
		return fmt.Errorf("held by %q in term %d, ours was %d: %w", holder, transitions, term, errHeld)
	}
	now := metav1.NewMicroTime(time.Now())
	l.Spec.RenewTime = &now
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update lease: %w", err)
	}
	e.setLeading(true, term)
	return nil
}

// release gives the lease up on a clean shutdown so that another replica need not wait.
func (e *Elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	leases := e.client.CoordinationV1().Leases(e.cfg.Namespace)
	l, err := leases.Get(ctx, e.cfg.Name, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != e.cfg.Identity {
		return
	}
	empty := ""
	l.Spec.HolderIdentity = &empty
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		e.logger.Warn("release lease", "lease", e.cfg.Name, "error", err)
	}
}

func (e *Elector) setLeading(on bool, term int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leading, e.term = on, term
	if on {
		e.renewedAt = time.Now()
	}
}
