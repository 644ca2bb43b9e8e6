package kube

import (
	"maps"
	"testing"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	testCluster(t)
	ns := namespace(t, "conformance")
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, dir string) runtime.Driver { return newDriver(t, admin, ns, ownerOf(dir)) },
		App: func(t *testing.T, env map[string]string) runtime.InstanceSpec {
			e := maps.Clone(env)
			if e == nil {
				e = map[string]string{}
			}
			// Each pod has its own loopback address on the test node: listen there only.
			e["LISTEN_HOST"] = "$(POD_IP)"
			return runtime.InstanceSpec{Image: demoImage, Env: e}
		},
	})
}
