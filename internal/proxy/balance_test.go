package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWeightMath(t *testing.T) {
	tg := func(ids ...string) []Target {
		var ts []Target
		for _, id := range ids {
			ts = append(ts, Target{ID: id, Addr: "127.0.0.1:1"})
		}
		return ts
	}
	tests := []struct {
		name   string
		groups []Group
		want   []int
	}{
		{"split", []Group{{Revision: 1, Weight: 10, Targets: tg("a")}, {Revision: 2, Weight: 90, Targets: tg("b")}}, []int{10, 90}},
		{"empty group gets none", []Group{{Revision: 1, Weight: 10, Targets: tg("a")}, {Revision: 2, Weight: 90, Targets: nil}}, []int{10}},
		{"zero weights spread by targets", []Group{{Revision: 1, Weight: 0, Targets: tg("a", "b", "c")}, {Revision: 2, Weight: 0, Targets: tg("d")}}, []int{3, 1}},
		{"weighted group without targets", []Group{{Revision: 1, Weight: 0, Targets: tg("a")}, {Revision: 2, Weight: 100, Targets: nil}}, []int{1}},
		{"negative is zero", []Group{{Revision: 1, Weight: -5, Targets: tg("a")}, {Revision: 2, Weight: 5, Targets: tg("b")}}, []int{0, 5}},
		{"nothing", nil, nil},
	}
	for _, tc := range tests {
		p := New(discardLogger(), Config{})
		p.SetTargets("web", tc.groups, 0)
		got := p.services["web"].traffic.Load().weights
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: weights (-want +got):\n%s", tc.name, diff)
		}
	}
}

// counting returns an upstream that counts its requests.
func counting(t testing.TB, n *atomic.Int64) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

// hammer sends total GET requests to url from workers goroutines and returns the statuses
// other than 200.
func hammer(t testing.TB, url string, workers, total int) []int {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer c.CloseIdleConnections()
	var (
		mu   sync.Mutex
		bad  []int
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				resp, err := c.Get(url)
				if err != nil {
					t.Errorf("GET %s: %v", url, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					bad = append(bad, resp.StatusCode)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return bad
}

func TestWeightProportions(t *testing.T) {
	// The hot path's choice itself, 10,000 times: 10% has a standard deviation of 30.
	p := New(discardLogger(), Config{})
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 90, Targets: []Target{{ID: "a", Addr: "127.0.0.1:1"}}},
		{Revision: 2, Weight: 10, Targets: []Target{{ID: "b", Addr: "127.0.0.1:2"}, {ID: "c", Addr: "127.0.0.1:3"}}},
	}, 0)
	tr := p.services["web"].traffic.Load()
	picks := map[string]int{}
	for range 10000 {
		_, tg := tr.choose(&choice{}, p.now())
		picks[tg.id]++
	}
	if got := picks["b"] + picks["c"]; got < 850 || got > 1150 {
		t.Errorf("revision 2 with weight 10: picked %d of 10000 times, want 1000±150", got)
	}

	// End to end through real listeners: 2,000 requests, 10% has a standard deviation of 13.4.
	p = startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	var n1, n2 atomic.Int64
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 90, Targets: []Target{{ID: "a", Addr: hostOf(counting(t, &n1))}}},
		{Revision: 2, Weight: 10, Targets: []Target{{ID: "b", Addr: hostOf(counting(t, &n2))}}},
	}, 0)
	if bad := hammer(t, "http://"+addr+"/", 8, 2000); len(bad) > 0 {
		t.Fatalf("%d requests failed: %v", len(bad), bad[:min(len(bad), 10)])
	}
	if got := n2.Load(); got < 130 || got > 270 {
		t.Errorf("revision 2 with weight 10: got %d of 2000 requests, want 200±70", got)
	}
	if got := n1.Load() + n2.Load(); got != 2000 {
		t.Errorf("upstreams saw %d requests, want 2000", got)
	}
}

// blocking returns an upstream that reports each arrival on arrived and answers once release
// is closed.
func blocking(t testing.TB, name string, arrived chan<- string, release <-chan struct{}) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- name
		<-release
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestLeastRequestsSpreads(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	arrived := make(chan string)
	release := make(chan struct{})
	a, b, c := blocking(t, "a", arrived, release), blocking(t, "b", arrived, release), blocking(t, "c", arrived, release)
	p.SetTargets("web", one(a, b, c), 0)
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 9 {
		wg.Go(func() { get(t, addr, "/") })
		// Wait for the arrival so that the next pick sees this request in flight.
		counts[<-arrived]++
	}
	close(release)
	wg.Wait()
	if diff := cmp.Diff(map[string]int{"a": 3, "b": 3, "c": 3}, counts); diff != "" {
		t.Errorf("9 concurrent requests over 3 targets (-want +got):\n%s", diff)
	}
}

func TestRoundRobinAlternates(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Balance: "round_robin"})
	p.SetTargets("web", one(named(t, "a"), named(t, "b")), 0)
	prev := get(t, addr, "/").body
	for i := range 10 {
		got := get(t, addr, "/").body
		if got == prev {
			t.Fatalf("request %d went to %s twice in a row", i+2, got)
		}
		prev = got
	}
}

func TestAtomicSwitchUnderLoad(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web"})
	blue := []Group{{Revision: 1, Weight: 100, Targets: []Target{
		{ID: "b1", Addr: hostOf(named(t, "blue"))}, {ID: "b2", Addr: hostOf(named(t, "blue"))}}}}
	green := []Group{{Revision: 2, Weight: 100, Targets: []Target{
		{ID: "g1", Addr: hostOf(named(t, "green"))}, {ID: "g2", Addr: hostOf(named(t, "green"))}}}}
	p.SetTargets("web", blue, 0)

	stop := make(chan struct{})
	var flips atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				p.SetTargets("web", green, 0)
			} else {
				p.SetTargets("web", blue, 0)
			}
			flips.Add(1)
			time.Sleep(time.Millisecond)
		}
	})
	bad := hammer(t, "http://"+addr+"/", 8, 2000)
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of 2000 requests failed during %d swaps: %v", len(bad), flips.Load(), bad[:min(len(bad), 10)])
	}
	if flips.Load() < 10 {
		t.Errorf("only %d swaps happened during the load", flips.Load())
	}
	p.SetTargets("web", green, 0)
	for i := range 100 {
		if got := get(t, addr, "/"); got.body != "green" {
			t.Fatalf("request %d after the final swap reached %q, want green", i, got.body)
		}
	}
}
