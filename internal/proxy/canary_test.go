package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/bucket"
	"github.com/google/go-cmp/cmp"
)

// roleGroups returns a stable group (revision 1) and a canary group (revision 2) with the given
// weights, each with one upstream answering its role.
func roleGroups(stable, canary *httptest.Server, ws, wc int) []Group {
	return []Group{
		{Revision: 1, Weight: ws, Role: "stable", Targets: []Target{{ID: "s", Addr: hostOf(stable)}}},
		{Revision: 2, Weight: wc, Role: "canary", Targets: []Target{{ID: "c", Addr: hostOf(canary)}}},
	}
}

func TestCanaryOverride(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Canary: CanaryRouting{Header: "x-canary", Cookie: "canary"}})
	stable, canary := named(t, "stable"), named(t, "canary")
	tests := []struct {
		name   string
		ws, wc int // weights of stable and canary
		header http.Header
		want   string
	}{
		{"no override", 100, 0, nil, "stable"},
		{"header always", 100, 0, http.Header{"X-Canary": {"always"}}, "canary"},
		{"header canary, any case", 100, 0, http.Header{"X-Canary": {"Canary"}}, "canary"},
		{"cookie always", 100, 0, http.Header{"Cookie": {"a=1; canary=always; b=2"}}, "canary"},
		{"quoted cookie", 100, 0, http.Header{"Cookie": {`canary="always"`}}, "canary"},
		{"unknown value ignored", 100, 0, http.Header{"X-Canary": {"maybe"}}, "stable"},
		{"other cookie ignored", 100, 0, http.Header{"Cookie": {"notcanary=always"}}, "stable"},
		{"header never", 0, 100, http.Header{"X-Canary": {"never"}}, "stable"},
		{"cookie stable", 0, 100, http.Header{"Cookie": {"canary=stable"}}, "stable"},
		{"header wins over cookie", 0, 100, http.Header{"X-Canary": {"never"}, "Cookie": {"canary=always"}}, "stable"},
		{"bad header value, cookie decides", 0, 100, http.Header{"X-Canary": {"x"}, "Cookie": {"canary=never"}}, "stable"},
	}
	for _, tc := range tests {
		p.SetTargets("web", roleGroups(stable, canary, tc.ws, tc.wc), 0)
		for range 3 {
			got := do(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/", "", tc.header)
			if got.status != 200 || got.body != tc.want {
				t.Errorf("%s: got %d %q, want 200 %q", tc.name, got.status, got.body, tc.want)
				break
			}
		}
	}
}

func TestCanaryOverrideIgnoredWithoutGroup(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Canary: CanaryRouting{Header: "X-Canary"}})
	a, b := named(t, "a"), named(t, "b")
	g := func(rev, weight int, role string, s *httptest.Server) Group {
		grp := Group{Revision: rev, Weight: weight, Role: role}
		if s != nil {
			grp.Targets = []Target{{ID: fmt.Sprint("t", rev), Addr: hostOf(s)}}
		}
		return grp
	}
	tests := []struct {
		name   string
		groups []Group
		value  string
		want   string
	}{
		{"only a stable group", []Group{g(1, 100, "stable", a)}, "always", "a"},
		{"baseline is not canary", []Group{g(1, 100, "stable", a), g(2, 0, "baseline", b)}, "always", "a"},
		{"unknown role is not canary", []Group{g(1, 100, "", a), g(2, 0, "", b)}, "always", "a"},
		{"canary without targets", []Group{g(1, 100, "stable", a), g(2, 0, "canary", nil)}, "always", "a"},
		{"no stable group", []Group{g(1, 0, "", a), g(2, 100, "canary", b)}, "never", "b"},
	}
	for _, tc := range tests {
		p.SetTargets("web", tc.groups, 0)
		got := do(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/", "", http.Header{"X-Canary": {tc.value}})
		if got.status != 200 || got.body != tc.want {
			t.Errorf("%s: got %d %q, want 200 %q", tc.name, got.status, got.body, tc.want)
		}
	}
}

// revisionsByKey sends each key's request repeat times with the key in the cookie "user" and
// returns the upstream that answered each key; it reports a key answered by more than one.
func revisionsByKey(t *testing.T, addr string, keys []string, repeat int) map[string]string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer c.CloseIdleConnections()
	var (
		mu  sync.Mutex
		got = make(map[string]string, len(keys))
		wg  sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 4 {
				first := ""
				for n := range repeat {
					a := do(t, c, http.MethodGet, "http://"+addr+"/", "", http.Header{"Cookie": {"user=" + keys[i]}})
					if n == 0 {
						first = a.body
					} else if a.body != first {
						t.Errorf("key %s: answered by %s, then by %s", keys[i], first, a.body)
					}
				}
				mu.Lock()
				got[keys[i]] = first
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return got
}

func TestStickyKeysOnlyMoveToCanary(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Canary: CanaryRouting{Sticky: "cookie:user"}})
	stable, canary := named(t, "stable"), named(t, "canary")
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%d", i)
	}
	share := func(m map[string]string) float64 {
		n := 0
		for _, v := range m {
			if v == "canary" {
				n++
			}
		}
		return float64(n) / float64(len(m))
	}

	p.SetTargets("web", roleGroups(stable, canary, 90, 10), 0)
	at10 := revisionsByKey(t, addr, keys, 3)
	if s := share(at10); s < 0.07 || s > 0.13 {
		t.Errorf("canary share at weight 10 = %.3f, want 0.10 ± 0.03", s)
	}
	p.SetTargets("web", roleGroups(stable, canary, 70, 30), 0)
	at30 := revisionsByKey(t, addr, keys, 3)
	if s := share(at30); s < 0.27 || s > 0.33 {
		t.Errorf("canary share at weight 30 = %.3f, want 0.30 ± 0.03", s)
	}
	moved := 0
	for _, k := range keys {
		if at10[k] == "canary" && at30[k] != "canary" {
			t.Errorf("key %s moved from canary to %s when the canary's weight rose", k, at30[k])
		}
		if at10[k] != at30[k] {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("no key moved from stable to canary when the canary's weight rose from 10 to 30")
	}
}

func TestStickyHeaderAndFallback(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Canary: CanaryRouting{Sticky: "header:x-user"}})
	stable, canary := named(t, "stable"), named(t, "canary")
	p.SetTargets("web", roleGroups(stable, canary, 50, 50), 0)
	seen := map[string]bool{}
	for i := range 20 {
		key := fmt.Sprint("u", i)
		first := ""
		for range 3 {
			a := do(t, http.DefaultClient, http.MethodGet, "http://"+addr+"/", "", http.Header{"X-User": {key}})
			if first == "" {
				first = a.body
			} else if a.body != first {
				t.Errorf("key %s: answered by %s, then by %s", key, first, a.body)
			}
		}
		seen[first] = true
	}
	if len(seen) != 2 {
		t.Errorf("20 keys at 50/50 saw %v, want both revisions", seen)
	}
	// Without the key, the weighted draw: 100 requests at 50/50 see both (all one: p = 2^-99).
	clear(seen)
	for range 100 {
		seen[get(t, addr, "/").body] = true
	}
	if len(seen) != 2 {
		t.Errorf("requests without a key at 50/50 saw %v, want both revisions", seen)
	}
}

func TestStickyClientIP(t *testing.T) {
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", Canary: CanaryRouting{Sticky: "client_ip"}})
	stable, canary := named(t, "stable"), named(t, "canary")
	// Weights out of bucket.Count place the cut between the two addresses' buckets, so that
	// they must get different revisions.
	b1, b2 := bucket.Of("web", "127.0.0.1"), bucket.Of("web", "127.0.0.2")
	if b1 == b2 {
		t.Fatalf("127.0.0.1 and 127.0.0.2 share bucket %d", b1)
	}
	cut := int(max(b1, b2))
	p.SetTargets("web", roleGroups(stable, canary, bucket.Count-cut, cut), 0)
	want := map[string]string{"127.0.0.1": "stable", "127.0.0.2": "stable"}
	if b1 < b2 {
		want["127.0.0.1"] = "canary"
	} else {
		want["127.0.0.2"] = "canary"
	}
	for ip, rev := range want {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return d.DialContext(ctx, network, a)
		}}}
		for range 5 {
			if got := do(t, c, http.MethodGet, "http://"+addr+"/", "", nil); got.body != rev {
				t.Errorf("client %s: answered by %q, want %q", ip, got.body, rev)
				break
			}
		}
		c.CloseIdleConnections()
	}
}

func TestStickyLayout(t *testing.T) {
	tg := []Target{{ID: "x", Addr: "127.0.0.1:1"}}
	tests := []struct {
		name     string
		groups   []Group
		wantRevs []int
		wantCuts []uint32
	}{
		{"canary first", []Group{{Revision: 1, Weight: 90, Role: "stable"}, {Revision: 2, Weight: 10, Role: "canary"}},
			[]int{2, 1}, []uint32{1000, 10000}},
		{"canary, baseline, stable, others by revision", []Group{
			{Revision: 7, Weight: 10, Role: ""}, {Revision: 3, Weight: 60, Role: "stable"}, {Revision: 5, Weight: 10, Role: ""},
			{Revision: 4, Weight: 10, Role: "baseline"}, {Revision: 6, Weight: 10, Role: "canary"},
		}, []int{6, 4, 3, 5, 7}, []uint32{1000, 2000, 8000, 9000, 10000}},
		{"weights not out of 100", []Group{{Revision: 1, Weight: 3, Role: "stable"}, {Revision: 2, Weight: 1, Role: "canary"}},
			[]int{2, 1}, []uint32{2500, 10000}},
		{"zero weight owns nothing", []Group{{Revision: 1, Weight: 100, Role: "stable"}, {Revision: 2, Weight: 0, Role: "canary"}},
			[]int{2, 1}, []uint32{0, 10000}},
	}
	for _, tc := range tests {
		for i := range tc.groups {
			tc.groups[i].Targets = tg
		}
		p := New(discardLogger(), Config{})
		p.SetTargets("web", tc.groups, 0)
		tr := p.services["web"].traffic.Load()
		var revs []int
		for _, g := range tr.stickyOrder {
			revs = append(revs, g.rev.revNum)
		}
		if diff := cmp.Diff(tc.wantRevs, revs); diff != "" {
			t.Errorf("%s: order (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.wantCuts, tr.stickyCut); diff != "" {
			t.Errorf("%s: cuts (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestCanaryRoutingValidation(t *testing.T) {
	p := startProxy(t, Config{})
	for _, c := range []CanaryRouting{
		{}, {Sticky: "client_ip"}, {Sticky: "cookie:session_id"}, {Sticky: "header:X-User"},
		{Header: "X-Canary", Cookie: "canary"},
	} {
		if err := p.SetRoute(Route{Service: "ok", Listen: "127.0.0.1:0", Canary: c}); err != nil {
			t.Errorf("SetRoute with %+v: %v", c, err)
		}
	}
	for _, tc := range []struct {
		c    CanaryRouting
		want string
	}{
		{CanaryRouting{Sticky: "cookie"}, `"cookie"`},
		{CanaryRouting{Sticky: "cookie:"}, `"cookie:"`},
		{CanaryRouting{Sticky: "header:a b"}, `"header:a b"`},
		{CanaryRouting{Sticky: "ip"}, `"ip"`},
		{CanaryRouting{Sticky: "Client_IP"}, `"Client_IP"`},
		{CanaryRouting{Header: "X Canary"}, `"X Canary"`},
		{CanaryRouting{Cookie: "a=b"}, `"a=b"`},
	} {
		err := p.SetRoute(Route{Service: "bad", Listen: "127.0.0.1:0", Canary: tc.c})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetRoute with %+v: got %v, want an error naming %s", tc.c, err, tc.want)
		}
	}
}

func TestCookieValue(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   string
		wantOK bool
	}{
		{"only", []string{"user=42"}, "42", true},
		{"among others", []string{"a=1;user=42; b=2"}, "42", true},
		{"second header", []string{"a=1", " user = 42"}, "", false}, // spaces around = are not a match
		{"second header line", []string{"a=1", "user=7"}, "7", true},
		{"quoted", []string{`user="x y"`}, "x y", true},
		{"empty", []string{"user="}, "", true},
		{"prefix is not the name", []string{"username=1"}, "", false},
		{"none", nil, "", false},
	}
	for _, tc := range tests {
		got, ok := cookieValue(http.Header{"Cookie": tc.header}, "user")
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: cookieValue(%q) = %q, %v, want %q, %v", tc.name, tc.header, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestCanaryChoiceDoesNotAllocate(t *testing.T) {
	p := New(discardLogger(), Config{})
	if err := p.SetRoute(Route{Service: "web", Listen: "127.0.0.1:0",
		Canary: CanaryRouting{Header: "X-Canary", Cookie: "canary", Sticky: "cookie:user"}}); err != nil {
		t.Fatal(err)
	}
	p.SetTargets("web", []Group{
		{Revision: 1, Weight: 90, Role: "stable", Targets: []Target{{ID: "a", Addr: "127.0.0.1:1"}}},
		{Revision: 2, Weight: 10, Role: "canary", Targets: []Target{{ID: "b", Addr: "127.0.0.1:2"}}},
	}, 0)
	slot := p.listeners["127.0.0.1:0"].slot
	for _, h := range []http.Header{
		{"Cookie": {"theme=dark; user=alice-1234"}},
		{"Cookie": {"canary=always"}},
		{"X-Canary": {"never"}},
		{},
	} {
		r := &http.Request{Host: "x", RemoteAddr: "127.0.0.1:5000", Header: h}
		allocs := testing.AllocsPerRun(100, func() {
			e := p.table.Load().lookup(slot, "x", "/")
			c := e.choice(r, false)
			if _, tgt := e.svc.traffic.Load().choose(&c, 0); tgt == nil {
				t.Fatal("no target")
			}
		})
		if allocs != 0 {
			t.Errorf("lookup and choice with %v: %v allocations, want 0", h, allocs)
		}
	}
}
