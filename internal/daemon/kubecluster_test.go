package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/kubetest"
	"github.com/cutover/cutover/internal/runtime/kube"
	"github.com/cutover/cutover/internal/testbin"
)

// kubeImage is the image name the test node maps to the demo app's binary.
const kubeImage = "cutover.test/demoapp:1"

// kubeShared is one control plane and test node shared by the package's Kubernetes tests,
// started by the first test that asks and stopped by TestMain.
var kubeShared kubetest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	kubeShared.Stop()
	os.Exit(code)
}

// kubeCluster starts the shared control plane and node once; it skips t when the binaries
// are missing (fails under CI=true).
func kubeCluster(t *testing.T) (*kubetest.Cluster, *kubernetes.Clientset) {
	t.Helper()
	return kubeShared.Get(t, kubetest.Setup{Images: func() map[string]string {
		return map[string]string{kubeImage: testbin.Demoapp(t)}
	}})
}

// kubeNamespace creates namespace name with its default service account.
func kubeNamespace(t *testing.T, cs kubernetes.Interface, name string) string {
	return kubetest.Namespace(t, cs, name)
}

// kubeconfigFor writes a kubeconfig for the cluster's apiserver with token and returns its path.
func kubeconfigFor(t *testing.T, host, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: u}}]
current-context: test
`, host, token)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newKubeHarness is a real daemon whose Kubernetes runtime is configured the way an operator
// does it, through CUTOVER_KUBECONFIG and CUTOVER_KUBE_NAMESPACE, on namespace ns as the
// user of kubeconfig.
func newKubeHarness(t *testing.T, kubeconfig, ns string) *harness {
	t.Helper()
	t.Setenv(kube.EnvKubeconfig, kubeconfig)
	t.Setenv(kube.EnvNamespace, ns)
	t.Setenv(kube.EnvDefault, "")
	return startWith(t, Options{})
}

// kubeYAML is s as a spec that runs the demo app's image on Kubernetes: each pod listens on
// its own address on the test node.
func kubeYAML(h *harness, s appSpec) string {
	y := h.yaml(s)
	env := "    LISTEN_HOST: \"$(POD_IP)\"\n"
	return strings.Replace(y, "run:\n  command: "+h.app+"\n  env:\n",
		"run:\n  image: "+kubeImage+"\n  runtime: kubernetes\n  env:\n"+env, 1)
}

// kubeDeploy deploys s as kubeYAML.
func kubeDeploy(t *testing.T, h *harness, s appSpec) (int64, error) {
	t.Helper()
	dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: s.Name, Spec: kubeYAML(h, s)})
	return dep.ID, err
}

// podsOf lists the pods of service (and revision, when > 0) in ns.
func podsOf(t *testing.T, cs kubernetes.Interface, ns, service string, revision int) []corev1.Pod {
	t.Helper()
	sel := kube.LabelService + "=" + service
	if revision > 0 {
		sel += fmt.Sprintf(",%s=%d", kube.LabelRevision, revision)
	}
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatalf("list pods of %s: %v", service, err)
	}
	return pods.Items
}
