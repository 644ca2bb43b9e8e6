// Package kubetest gives tests a real Kubernetes control plane on loopback: etcd,
// kube-apiserver and kube-controller-manager built by scripts/install-kube, plus Kubelet, a
// small test node that binds pending pods to itself and runs each pod's container as a local
// process on its own loopback address. It is imported only by tests; nothing in it is a
// production path.
package kubetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is a running control plane. Admin is a rest.Config with cluster-admin rights;
// Limited authenticates as the user "limited", who has no role anywhere.
type Cluster struct {
	Dir     string
	Admin   *rest.Config
	Limited *rest.Config
	procs   []proc
}

// proc is a started component; exited is closed once it has exited.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// BinDir returns the directory holding etcd and kube-apiserver (and kube-controller-manager,
// started when present): $CUTOVER_TEST_KUBE_BIN, else
// scripts/install-kube's default cache. ok is false when the binaries are missing.
func BinDir() (string, bool) {
	dir := os.Getenv("CUTOVER_TEST_KUBE_BIN")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "cutover-kube", "bin")
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return dir, false
		}
	}
	return dir, true
}

// Need returns c, or skips t when c is nil (the binaries are missing) — except under
// CI=true, where a missing control plane fails the test.
func Need(t testing.TB, c *Cluster) *Cluster {
	t.Helper()
	if c != nil {
		return c
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("kube-apiserver and etcd are required under CI (run scripts/install-kube)")
	}
	t.Skip("no Kubernetes control plane: run scripts/install-kube")
	return nil
}

// Start starts etcd, kube-apiserver and kube-controller-manager under dir and waits until
// the apiserver is ready. It returns nil, nil when the binaries are missing.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, ok := BinDir()
	if !ok {
		return nil, nil
	}
	c := &Cluster{Dir: dir}
	if err := c.start(ctx, bin); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, bin string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := c.run(filepath.Join(bin, "etcd"), "etcd",
		"--data-dir", filepath.Join(c.Dir, "etcd"), "--name", "test",
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL, "--log-level", "warn",
		"--unsafe-no-fsync", "--quota-backend-bytes", "1073741824"); err != nil {
		return err
	}
	admin, limited := randToken(), randToken()
	if err := c.writeAuth(admin, limited); err != nil {
		return err
	}
	apiURL := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	if err := c.run(filepath.Join(bin, "kube-apiserver"), "apiserver", c.apiserverArgs(etcdURL, ports[2])...); err != nil {
		return err
	}
	c.Admin = &rest.Config{Host: apiURL, BearerToken: admin, QPS: 200, Burst: 400,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	c.Limited = &rest.Config{Host: apiURL, BearerToken: limited,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	if err := c.writeKubeconfig(admin); err != nil {
		return err
	}
	kcm := filepath.Join(bin, "kube-controller-manager")
	if _, err := os.Stat(kcm); err != nil {
		return nil // garbage collection and the other controllers are then absent
	}
	return c.run(kcm, "controller-manager",
		"--kubeconfig", c.Kubeconfig(), "--authentication-kubeconfig", c.Kubeconfig(),
		"--authorization-kubeconfig", c.Kubeconfig(), "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--service-account-private-key-file", filepath.Join(c.Dir, "sa.key"),
		"--controllers=*,-node-lifecycle-controller,-node-ipam-controller,-persistentvolume-binder-controller,-persistentvolume-attach-detach-controller,-ttl-controller")
}

func (c *Cluster) apiserverArgs(etcdURL string, port int) []string {
	return []string{
		"--etcd-servers", etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none", // the reconciler refuses a loopback address
		"--secure-port", strconv.Itoa(port), "--cert-dir", filepath.Join(c.Dir, "certs"),
		"--token-auth-file", filepath.Join(c.Dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(c.Dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(c.Dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-client-certificate", filepath.Join(c.Dir, "kubelet-client.crt"),
		"--kubelet-client-key", filepath.Join(c.Dir, "kubelet-client.key"),
		"--enable-priority-and-fairness=false",
	}
}

// Kubeconfig is the path of a kubeconfig file for the admin user (for kubectl-like tools).
func (c *Cluster) Kubeconfig() string { return filepath.Join(c.Dir, "kubeconfig") }

// Client returns a clientset for cfg.
func Client(cfg *rest.Config) (*kubernetes.Clientset, error) { return kubernetes.NewForConfig(cfg) }

// run starts one component, logging to dir/name.log.
func (c *Cluster) run(path, name string, args ...string) error {
	log, err := os.Create(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(p.exited)
	}()
	c.procs = append(c.procs, p)
	return nil
}

// Stop kills the components, newest first, and waits for them.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	c.procs = nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	cs, err := Client(c.Admin)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%w: %s", err, body)
		for _, p := range c.procs {
			select {
			case <-p.exited:
				return errors.New("a control-plane component exited; see its log in " + c.Dir)
			default:
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 90s (logs in %s): %w", c.Dir, last)
}

func (c *Cluster) writeAuth(admin, limited string) error {
	tokens := admin + ",admin,admin,system:masters\n" + limited + ",limited,limited,\n"
	if err := os.WriteFile(filepath.Join(c.Dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(c.Dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(c.Dir, "sa.pub"), "PUBLIC KEY", pub); err != nil {
		return err
	}
	return writeSelfSigned(c.Dir, "kubelet-client", "kube-apiserver-kubelet-client")
}

func (c *Cluster) writeKubeconfig(token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`, c.Admin.Host, token)
	return os.WriteFile(c.Kubeconfig(), []byte(cfg), 0o600)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

func randToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts returns n loopback ports free at the time of the call.
func freePorts(n int) ([]int, error) {
	var out []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
