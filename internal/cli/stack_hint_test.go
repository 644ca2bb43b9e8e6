package cli_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cli"
)

// TestStackServiceRollbackAndHistory: rollback and history of a service the daemon does not
// know (a stack's stateful, worker or job service) say what to do instead.
func TestStackServiceRollbackAndHistory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"service db: not found"}`))
	}))
	defer srv.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback", "db"}, "deploy the compose file of the version to return to"},
		{[]string{"history", "db"}, "cutover status -f compose.yaml shows the revision it runs"},
	} {
		r := runWith(t, cli.Commands{}, append([]string{"--state", t.TempDir(), "--addr", srv.URL, "--token", "x"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
