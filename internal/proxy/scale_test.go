package proxy

import (
	"fmt"
	"net/http"
	"testing"
)

// TestLookupAndBalanceDoNotAllocate checks the per-request routing path (route lookup among
// many host routes, group and target choice among many instances, both policies) for
// allocations.
func TestLookupAndBalanceDoNotAllocate(t *testing.T) {
	p := New(discardLogger(), Config{})
	const routes = 100
	for i := range routes {
		balance := balanceLeast
		if i%2 == 1 {
			balance = balanceRR
		}
		r := Route{Service: fmt.Sprintf("svc%d", i), Listen: "127.0.0.1:0",
			Hosts: []string{fmt.Sprintf("app%d.example.com", i)}, Paths: []string{"/", "/api/"}, Balance: balance}
		if err := p.SetRoute(r); err != nil {
			t.Fatal(err)
		}
		p.SetTargets(r.Service, scaleGroup(1+i, "127.0.0.1:1"), 0)
	}
	slot := p.listeners["127.0.0.1:0"].slot
	for _, i := range []int{0, 1, 9, 10, 99} {
		host := fmt.Sprintf("App%d.Example.com:8080", i) // upper case and port: still no allocation
		if i%2 == 0 {
			host = fmt.Sprintf("app%d.example.com", i)
		}
		r := &http.Request{Host: host, RemoteAddr: "127.0.0.1:5000", Header: http.Header{}}
		want := fmt.Sprintf("svc%d", i)
		var picked *target
		allocs := testing.AllocsPerRun(100, func() {
			e := p.table.Load().lookup(slot, r.Host, "/api/items")
			if e == nil || e.svc.name != want {
				t.Fatalf("host %s: wrong route", host)
			}
			c := e.choice(r, false)
			_, picked = e.svc.traffic.Load().choose(&c, 0)
		})
		if picked == nil {
			t.Fatalf("host %s: no target", host)
		}
		if allocs != 0 {
			t.Errorf("lookup and balance for host %s, %d instances: %v allocations, want 0", host, 1+i, allocs)
		}
	}
}
