package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/kubetest"
	"github.com/cutover/cutover/internal/runtime/kube"
	"github.com/cutover/cutover/internal/testbin"
)

// kubeImage is the image name the test node maps to the demo app's binary.
const kubeImage = "cutover.test/demoapp:1"

// kubeEnv is one control plane and test node shared by the package's Kubernetes tests,
// started by the first test that asks and stopped by TestMain.
var kubeEnv struct {
	once    sync.Once
	err     error
	cluster *kubetest.Cluster
	admin   *kubernetes.Clientset
	stop    context.CancelFunc
}

func TestMain(m *testing.M) {
	code := m.Run()
	if kubeEnv.stop != nil {
		kubeEnv.stop()
	}
	if c := kubeEnv.cluster; c != nil {
		c.Stop()
		os.RemoveAll(c.Dir)
	}
	os.Exit(code)
}

// kubeCluster starts the shared control plane and node once; it skips t when the binaries
// are missing (fails under CI=true).
func kubeCluster(t *testing.T) (*kubetest.Cluster, *kubernetes.Clientset) {
	t.Helper()
	kubeEnv.once.Do(func() { kubeEnv.err = startKube(t) })
	if kubeEnv.err != nil {
		t.Fatalf("control plane: %v", kubeEnv.err)
	}
	return kubetest.Need(t, kubeEnv.cluster), kubeEnv.admin
}

func startKube(t *testing.T) error {
	dir, err := os.MkdirTemp("", "cutover-daemon-kube-")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := kubetest.Start(ctx, dir)
	if err != nil || c == nil {
		return err
	}
	kubeEnv.cluster = c
	if kubeEnv.admin, err = kubetest.Client(c.Admin); err != nil {
		return err
	}
	nodeCtx, stop := context.WithCancel(context.Background())
	kubeEnv.stop = stop
	node := kubetest.NewKubelet(kubeEnv.admin, "test-node", dir, map[string]string{kubeImage: testbin.Demoapp(t)})
	return node.Run(nodeCtx)
}

// kubeNamespace creates namespace name with its default service account.
func kubeNamespace(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	ctx := context.Background()
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: default service account: %v", name, err)
	}
	return name
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
