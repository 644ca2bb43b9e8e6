package cluster_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/kubetest"
)

// TestManifestsAreAcceptedByTheAPIServer: the CRD is established (TestMain created it from
// crd.yaml), rbac.yaml is created (newHarness), and cutover.yaml's Deployments and
// Services pass the real apiserver's validation and admission in a server-side dry run.
// The proxy's role cannot read deployments' records: least privilege, checked by asking.
func TestManifestsAreAcceptedByTheAPIServer(t *testing.T) {
	h := newHarness(t, "manifests")
	if err := kubetest.Apply(t.Context(), cluster.Admin, manifest(t, "cutover.yaml", h.ns), h.ns, true); err != nil {
		t.Fatalf("server-side dry run of cutover.yaml: %v", err)
	}
	if l, err := admin.AppsV1().Deployments(h.ns).List(t.Context(), metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("a dry run stored deployments: %v %v", l, err)
	}
	bad := strings.Replace(string(manifest(t, "cutover.yaml", h.ns)), "replicas: 2", "replicas: two", 1)
	if err := kubetest.Apply(t.Context(), cluster.Admin, []byte(bad), h.ns, true); err == nil {
		t.Fatal("a Deployment with replicas: two passed the dry run: the test validates nothing")
	}
	proxyCfg, err := clientcmdConfig(h.proxyKcfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(proxyCfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dyn.Resource(kubestate.DeploymentsGVR).Namespace(h.ns).List(context.Background(), metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("the proxy's service account listed deployments' records: %v", err)
	}
}
