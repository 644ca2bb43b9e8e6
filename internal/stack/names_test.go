package stack

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProxyNames(t *testing.T) {
	n := ProxyNames([]RoutedPort{
		{Service: "web", Port: 8080, Gateway: "172.18.0.1"},
		{Service: "api", Port: 9000, Gateway: "172.18.0.1"},
		{Service: "admin", Port: 3000, Gateway: "172.18.0.1"},
		{Service: "docs", Port: 3000, Gateway: "172.18.0.1"},
	})
	want := map[string]string{"web": "172.18.0.1:8080", "api": "172.18.0.1:9000"}
	if diff := cmp.Diff(want, n.Internal); diff != "" {
		t.Errorf("internal addresses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"api:172.18.0.1", "web:172.18.0.1"}, n.Hosts); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"api:172.18.0.1"}, n.HostsFor("web")); diff != "" {
		t.Errorf("hosts of web (-want +got):\n%s", diff)
	}
	if !cmp.Equal(n.Aliased, []string{"admin", "docs"}) || len(n.Warnings) != 2 || !strings.Contains(n.Warnings[0], "port 3000") {
		t.Errorf("aliased %v, warnings %q; want admin and docs warned about port 3000", n.Aliased, n.Warnings)
	}
}
