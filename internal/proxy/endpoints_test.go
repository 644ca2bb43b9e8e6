package proxy

import "testing"

func TestEndpointMatch(t *testing.T) {
	set := endpointSet{
		{Name: "checkout", Paths: []string{"/checkout"}, Methods: []string{"POST"}},
		{Name: "api", Paths: []string{"/api/"}},
		{Name: "writes", Methods: []string{"PUT", "DELETE"}},
	}
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/checkout", "checkout"},
		{"POST", "/checkout/pay", "checkout"},
		{"GET", "/checkout", ""},
		{"POST", "/checkouts", ""},
		{"GET", "/api/x", "api"},
		{"DELETE", "/api/x", "api"}, // the first match wins
		{"DELETE", "/x", "writes"},
		{"GET", "/", ""},
	} {
		if got := set.match(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: endpoint %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestEndpointCounts(t *testing.T) {
	var s revStats
	s.observe(200, 1000, "checkout")
	s.observe(503, 2000, "checkout")
	s.observe(200, 1000, "")
	for i := range maxEndpointNames + 5 {
		s.observe(200, 1, string(rune('a'+i)))
	}
	c := s.counts()
	if got := c.Endpoints["checkout"]; got.Requests != 2 || got.Errors != 1 || len(got.Latency) == 0 {
		t.Errorf("checkout counts %+v, want 2 requests, 1 error and a histogram", got)
	}
	if len(c.Endpoints) != maxEndpointNames {
		t.Errorf("%d endpoints kept, want at most %d", len(c.Endpoints), maxEndpointNames)
	}
	if c.Requests != int64(maxEndpointNames+8) {
		t.Errorf("revision requests %d: every request counts for the revision", c.Requests)
	}
}
