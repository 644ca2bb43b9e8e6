package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/kubetest"
	"github.com/cutover/cutover/internal/loadgen"
	"github.com/cutover/cutover/internal/testbin"
)

// demoImage is the image the test node runs as the demo app.
const demoImage = "cutover.test/demoapp:1"

// Lease timings of the test replicas: short, so a takeover is quick.
const (
	leaseDuration = 3 * time.Second
	renewDeadline = 2 * time.Second
)

var (
	shared  kubetest.Shared
	cluster *kubetest.Cluster
	admin   *kubernetes.Clientset
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

// sharedCluster starts, once per test process, the control plane with cutover's CRD and a
// test node that runs the demo app for demoImage.
func sharedCluster(t *testing.T) {
	t.Helper()
	cluster, admin = shared.Get(t, kubetest.Setup{
		Images: func() map[string]string { return map[string]string{demoImage: testbin.Demoapp(t)} },
		Before: func(ctx context.Context, c *kubetest.Cluster) error {
			crd, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "crd.yaml"))
			if err != nil {
				return err
			}
			return kubetest.Apply(ctx, c.Admin, crd, "", false)
		},
	})
}

// harness is one namespace with controller and proxy replicas running as real processes of
// the cutover binary.
type harness struct {
	t     *testing.T
	ns    string
	dir   string
	bin   string
	token string
	// ctlKcfg and proxyKcfg authenticate as the manifest's service accounts.
	ctlKcfg, proxyKcfg string

	mu          sync.Mutex
	controllers map[string]*replica
	proxies     map[string]*replica
}

type replica struct {
	name string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func newHarness(t *testing.T, ns string) *harness {
	t.Helper()
	sharedCluster(t)
	ctx := t.Context()
	// The namespace, service accounts and roles come from the repository's manifest: the
	// replicas run with exactly the rights it grants.
	if err := kubetest.Apply(ctx, cluster.Admin, manifest(t, "rbac.yaml", ns), ns, false); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	h := &harness{t: t, ns: ns, dir: t.TempDir(), bin: testbin.Cutover(t), token: "test-token-" + ns,
		controllers: map[string]*replica{}, proxies: map[string]*replica{}}
	if err := os.WriteFile(filepath.Join(h.dir, "token"), []byte(h.token), 0o600); err != nil {
		t.Fatal(err)
	}
	h.ctlKcfg = h.kubeconfigOf("cutover-controller")
	h.proxyKcfg = h.kubeconfigOf("cutover-proxy")
	t.Cleanup(h.stopAll)
	return h
}

// manifest reads deploy/kubernetes/name with its namespace replaced by ns.
func manifest(t *testing.T, name, ns string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "namespace: cutover\n", "namespace: "+ns+"\n")
	s = strings.ReplaceAll(s, "namespace: cutover}", "namespace: "+ns+"}")
	s = strings.ReplaceAll(s, "  name: cutover\n---", "  name: "+ns+"\n---")
	return []byte(s)
}

// kubeconfigOf writes a kubeconfig that authenticates with a token of the service account.
func (h *harness) kubeconfigOf(sa string) string {
	h.t.Helper()
	exp := int64(3600)
	tr, err := admin.CoreV1().ServiceAccounts(h.ns).CreateToken(context.Background(), sa,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatalf("token of %s: %v", sa, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: cluster.Admin.Host, InsecureSkipTLSVerify: true}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: sa, Namespace: h.ns}
	cfg.CurrentContext = "test"
	path := filepath.Join(h.dir, sa+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		h.t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (h *harness) start(name string, args ...string) *replica {
	h.t.Helper()
	log, err := os.Create(filepath.Join(h.dir, name+".log"))
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(h.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	r := &replica{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(r.done)
	}()
	return r
}

// startController starts a controller replica and waits for its API.
func (h *harness) startController(name string) *replica {
	h.t.Helper()
	addr := freeAddr(h.t)
	r := h.start(name, "cluster", "controller", "--kubeconfig", h.ctlKcfg, "--namespace", h.ns, "--identity", name,
		"--listen", addr, "--token-file", filepath.Join(h.dir, "token"), "--lease-duration", leaseDuration.String(),
		"--renew-deadline", renewDeadline.String(), "--retry-period", "250ms", "--log-level", "info")
	r.addr = addr
	waitFor(h.t, 30*time.Second, "controller "+name+" API", func() bool {
		_, err := api.NewClient(addr, h.token).Services(context.Background())
		return err == nil
	})
	h.mu.Lock()
	h.controllers[name] = r
	h.mu.Unlock()
	return r
}

// twoProxiesServingV1 starts proxy replicas p1 and p2, deploys v1 on two pods and waits until
// both replicas serve it: where the tests under load begin.
func (h *harness) twoProxiesServingV1() (p1, p2 *replica) {
	h.t.Helper()
	p1, p2 = h.startProxy("p1"), h.startProxy("p2")
	if d := h.wait(h.deploy(appSpec("v1", 2, "", "")).ID, 2*time.Minute); d.Status != "succeeded" {
		h.t.Fatalf("first deployment: %s %s", d.Status, d.Reason)
	}
	waitServes(h.t, p1.addr, "v1")
	waitServes(h.t, p2.addr, "v1")
	return p1, p2
}

// startProxy starts a proxy replica on a loopback address.
func (h *harness) startProxy(name string, extra ...string) *replica {
	h.t.Helper()
	addr := freeAddr(h.t)
	args := append([]string{"cluster", "proxy", "--kubeconfig", h.proxyKcfg, "--namespace", h.ns, "--identity", name,
		"--listen", addr, "--log-level", "info"}, extra...)
	r := h.start(name, args...)
	r.addr = addr
	h.mu.Lock()
	h.proxies[name] = r
	h.mu.Unlock()
	return r
}

// kill sends SIGKILL: no lease release, no cleanup.
func (h *harness) kill(r *replica) {
	_ = r.cmd.Process.Kill()
	<-r.done
	h.mu.Lock()
	delete(h.controllers, r.name)
	delete(h.proxies, r.name)
	h.mu.Unlock()
}

func (h *harness) stopAll() {
	h.mu.Lock()
	var all []*replica
	for _, r := range h.controllers {
		all = append(all, r)
	}
	for _, r := range h.proxies {
		all = append(all, r)
	}
	h.mu.Unlock()
	for _, r := range all {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	}
	zero := int64(0)
	_ = admin.CoreV1().Pods(h.ns).DeleteCollection(context.Background(), metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	if h.t.Failed() {
		for _, name := range []string{"c1", "c2", "p1", "p2"} {
			if b, err := os.ReadFile(filepath.Join(h.dir, name+".log")); err == nil {
				h.t.Logf("--- %s.log (tail)\n%s", name, tail(string(b), 4000))
			}
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// client is an API client of any live controller replica (they all answer).
func (h *harness) client() *api.Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.controllers {
		return api.NewClient(r.addr, h.token)
	}
	h.t.Fatal("no controller replica left")
	return nil
}

// leader is the controller replica holding the lease.
func (h *harness) leader() *replica {
	h.t.Helper()
	var out *replica
	waitFor(h.t, 30*time.Second, "a leader", func() bool {
		l, err := admin.CoordinationV1().Leases(h.ns).Get(context.Background(), "cutover-controller", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return false
		}
		h.mu.Lock()
		out = h.controllers[*l.Spec.HolderIdentity]
		h.mu.Unlock()
		return out != nil
	})
	return out
}

func (h *harness) deploy(yaml string) api.Deployment {
	h.t.Helper()
	d, err := h.client().Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: yaml, SpecFile: "test.yaml"})
	if err != nil {
		h.t.Fatalf("deploy: %v", err)
	}
	return d
}

// wait returns the deployment once it has ended.
func (h *harness) wait(id int64, timeout time.Duration) api.Deployment {
	h.t.Helper()
	var d api.Deployment
	waitFor(h.t, timeout, fmt.Sprintf("deployment %d to end", id), func() bool {
		var err error
		d, err = h.client().Deployment(context.Background(), id)
		return err == nil && d.Final()
	})
	return d
}

// pods returns the service's pods by revision label (pods being deleted left out).
func (h *harness) pods(service string) map[string]int {
	h.t.Helper()
	l, err := admin.CoreV1().Pods(h.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "cutover.dev/service=" + service})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out[p.Labels["cutover.dev/revision"]]++
		}
	}
	return out
}

// load sends requests at rate to url until stop is called, which returns the tally.
func load(t *testing.T, url string, rate int) (stop func() loadgen.Summary) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadgen.Summary, 1)
	go func() {
		sum, err := loadgen.Run(ctx, loadgen.Config{URL: url, Rate: rate, Duration: 5 * time.Minute, Timeout: 10 * time.Second}, nil)
		if err != nil {
			t.Errorf("load: %v", err)
		}
		done <- sum
	}()
	return func() loadgen.Summary {
		cancel()
		return <-done
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// podPort is the demo app's port in its pod: pods have their own loopback addresses on the
// test node, but other test processes on the machine may run pods on the same ones, so the
// port is drawn at random for this process.
var podPort = 20000 + int(time.Now().UnixNano()%10000)

// appSpec is the demo app's spec on the cluster.
func appSpec(version string, replicas int, env, strategy string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: web\nreplicas: %d\nrun:\n  image: %s\n  container: {port: %d}\n  env:\n    LISTEN_HOST: \"$(POD_IP)\"\n    VERSION: %s\n",
		replicas, demoImage, podPort, version)
	b.WriteString(env)
	b.WriteString("probes:\n  readiness:\n    http: {path: /healthz}\n    period: 100ms\n")
	b.WriteString("route:\n  listen: \":8080\"\n")
	if strategy != "" {
		b.WriteString("strategy:\n")
		for _, l := range strings.Split(strings.TrimRight(strategy, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}
