package cluster_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func apiEventQuery(id int64) api.EventQuery { return api.EventQuery{DeploymentID: id} }

// waitServes waits until the proxy at addr answers 200 from version.
func waitServes(t *testing.T, addr, version string) {
	t.Helper()
	waitFor(t, 30*time.Second, addr+" serving "+version, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && resp.Header.Get("X-Version") == version
	})
}

func clientcmdConfig(path string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", path)
}
