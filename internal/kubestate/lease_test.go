package kubestate

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// cutTransport fails every request while cut is set: a replica partitioned from the apiserver.
type cutTransport struct {
	next http.RoundTripper
	cut  *atomic.Bool
}

func (c cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errors.New("partitioned")
	}
	return c.next.RoundTrip(r)
}

func TestElectionHandsOverWhenTheLeaderIsCutOff(t *testing.T) {
	_, _, ns := clients(t)
	cfg := ElectorConfig{Namespace: ns, Name: "ctl", LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond}
	var cut atomic.Bool
	partitioned := rest.CopyConfig(cluster.Admin)
	partitioned.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return cutTransport{next: rt, cut: &cut} }
	csA, err := kubernetes.NewForConfig(partitioned)
	if err != nil {
		t.Fatal(err)
	}
	csB, err := kubernetes.NewForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	cfgA, cfgB := cfg, cfg
	cfgA.Identity, cfgB.Identity = "a", "b"
	a, _ := NewElector(csA, cfgA, testLogger(t))
	b, _ := NewElector(csB, cfgB, testLogger(t))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type lead struct {
		who  string
		term int64
		at   time.Time
	}
	leads := make(chan lead, 4)
	aStopped := make(chan time.Time, 1)
	go a.Run(ctx, func(c context.Context, term int64) {
		leads <- lead{"a", term, time.Now()}
		<-c.Done()
		aStopped <- time.Now()
	})
	first := <-leads
	if first.who != "a" {
		t.Fatalf("first leader %s", first.who)
	}
	go b.Run(ctx, func(c context.Context, term int64) {
		leads <- lead{"b", term, time.Now()}
		<-c.Done()
	})
	// b must not lead while a renews. On a starved machine a's renewals may time out, a
	// then gives up the lead and b takes it: allowed, if a stopped acting first.
	select {
	case l := <-leads:
		stopped := <-aStopped
		if l.who != "b" || l.term <= first.term || !stopped.Before(l.at) {
			t.Fatalf("%s led in term %d at %v while a (term %d) acted until %v", l.who, l.term, l.at, first.term, stopped)
		}
		t.Logf("a lost the lease before the cut (slow apiserver); a stopped before b led, in a higher term")
		return
	case <-time.After(2 * cfg.LeaseDuration):
	}
	cutAt := time.Now()
	cut.Store(true)
	stopped := <-aStopped
	if _, ok := a.Leading(); ok {
		t.Fatal("a still reports leading after losing the lease")
	}
	second := <-leads
	if second.who != "b" || second.term <= first.term {
		t.Fatalf("second leader %+v after %+v", second, first)
	}
	// Fencing: a stopped acting before b started.
	if !stopped.Before(second.at) {
		t.Fatalf("a stopped at %v, after b started at %v", stopped, second.at)
	}
	t.Logf("cut at 0, a stopped after %v, b leads after %v (lease %v)", stopped.Sub(cutAt), second.at.Sub(cutAt), cfg.LeaseDuration)
}
