package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/proxy"
)

// statusTally counts the answers of a polling client by status.
type statusTally struct {
	mu        sync.Mutex
	byStatus  map[int]int
	noRetry   int // 503s without Retry-After
	transport []error
}

// poll sends GETs to url one after the other until stop is closed (or 20,000 were sent).
func (s *statusTally) poll(url string, stop <-chan struct{}) {
	c := &http.Client{Timeout: 30 * time.Second}
	for range 20000 {
		select {
		case <-stop:
			return
		default:
		}
		resp, err := c.Get(url)
		s.mu.Lock()
		if err != nil {
			s.transport = append(s.transport, err)
		} else {
			s.byStatus[resp.StatusCode]++
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				s.noRetry++
			}
		}
		s.mu.Unlock()
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func hasEvent(t *testing.T, h *harness, service, typ string) bool {
	t.Helper()
	evs, err := h.client.Events(context.Background(), api.EventQuery{Service: service}, 0)
	if err != nil {
		return false
	}
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TestAllInstancesGoneRecordsEvent kills (SIGKILL) every instance of the only revision under
// a polling client: while none is ready the client gets 503 with Retry-After (or 502 for
// the moment the dead ones are still listed), never a hang; the store records no_targets,
// then targets_restored once the runtime has restarted them, and they serve again.
func TestAllInstancesGoneRecordsEvent(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 2})
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy: %s %s", got.Status, got.Reason)
	}
	if hasEvent(t, h, "web", "no_targets") || hasEvent(t, h, "web", "targets_restored") {
		t.Fatalf("a first deployment recorded a lost target")
	}
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil || len(svc.Instances) != 2 {
		t.Fatalf("service: %+v %v, want 2 instances", svc, err)
	}

	tally := &statusTally{byStatus: map[int]int{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { tally.poll("http://"+listen+"/", stop) })
	for _, in := range svc.Instances {
		st, err := h.d.driver.Status(context.Background(), in.ID)
		if err != nil || st.PID <= 0 {
			t.Fatalf("status of %s: %+v %v", in.ID, st, err)
		}
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %s: %v", in.ID, err)
		}
	}
	waitFor(t, 30*time.Second, "a no_targets event", func() bool { return hasEvent(t, h, "web", "no_targets") })
	waitFor(t, 30*time.Second, "a targets_restored event", func() bool { return hasEvent(t, h, "web", "targets_restored") })
	// Let the poller see the restored instances before it stops.
	waitFor(t, 30*time.Second, "a 200 after the restore", func() bool {
		resp, err := http.Get("http://" + listen + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	close(stop)
	wg.Wait()

	tally.mu.Lock()
	defer tally.mu.Unlock()
	t.Logf("answers while the instances were gone: %v", tally.byStatus)
	if len(tally.transport) > 0 {
		t.Errorf("%d requests failed without an HTTP answer, first: %v", len(tally.transport), tally.transport[0])
	}
	if tally.byStatus[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 while no instance was ready: %v", tally.byStatus)
	}
	if tally.noRetry > 0 {
		t.Errorf("%d 503s without Retry-After", tally.noRetry)
	}
	for code := range tally.byStatus {
		if code != 200 && code != 502 && code != 503 {
			t.Errorf("unexpected status %d (%d times)", code, tally.byStatus[code])
		}
	}
	// The first 200 needs one restored target; the second may still be starting.
	waitFor(t, 30*time.Second, "both instances targets again", func() bool {
		svc, err = h.client.Service(context.Background(), "web")
		if err != nil || len(svc.Instances) != 2 {
			return false
		}
		return svc.Instances[0].Target && svc.Instances[1].Target
	})
	for _, in := range svc.Instances {
		if in.Restarts != 1 {
			t.Errorf("instance %s afterwards: restarts %d, want restarted once", in.ID, in.Restarts)
		}
	}
	evs, _ := h.client.Events(context.Background(), api.EventQuery{Service: "web"}, 0)
	var order []string
	for _, e := range evs {
		if e.Type == "no_targets" || e.Type == "targets_restored" {
			order = append(order, e.Type)
		}
	}
	if strings.Join(order, ",") != "no_targets,targets_restored" {
		t.Errorf("target events %v, want [no_targets targets_restored]", order)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web.test"},
		DNSNames: []string{"web.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "web.crt"), filepath.Join(dir, "web.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRouteLimitsAndTLSFromSpec deploys a spec whose route has a body cap and TLS: the route
// serves HTTPS with the spec's certificate, a body over the cap gets 413 and one under it
// 200. A certificate file that does not exist is refused at deploy, naming route.tls, and
// changes nothing.
func TestRouteLimitsAndTLSFromSpec(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	certFile, keyFile, pool := writeCert(t, t.TempDir())
	routeYAML := func(cert string) string {
		doc := h.yaml(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1})
		return strings.Replace(doc, "  drain_timeout: 5s\n", fmt.Sprintf(
			"  drain_timeout: 5s\n  max_body: 1k\n  max_concurrency: 50\n  tls: {cert: %q, key: %q}\n", cert, keyFile), 1)
	}
	_, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: routeYAML(certFile + ".missing"), Who: "test"})
	if !isErr(err, api.ErrInvalid) || !strings.Contains(err.Error(), "route.tls") {
		t.Fatalf("deploy with a missing certificate: %v, want a validation error naming route.tls", err)
	}
	if _, err := h.client.Service(context.Background(), "web"); !isErr(err, api.ErrNotFound) {
		t.Errorf("refused deploy left service web: %v", err)
	}

	dep, err := h.client.Deploy(context.Background(), api.DeployRequest{Service: "web", Spec: routeYAML(certFile), Who: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy: %s %s", got.Status, got.Reason)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		size int
		want int
	}{{1024, 200}, {1025, 413}} {
		resp, err := c.Post("https://"+listen+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", tc.size)))
		if err != nil {
			t.Fatalf("POST %d bytes over https: %v", tc.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("POST %d bytes (max_body 1k): got %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
	if resp, err := http.Get("http://" + listen + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP on the TLS route: got %d, want a refusal", resp.StatusCode)
		}
	}
}

// TestTrustedProxyOption: the daemon's proxy keeps X-Forwarded-For from a trusted proxy
// network (the --trusted-proxy flag) and overwrites it from anyone else.
func TestTrustedProxyOption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		want    string
	}{
		{"untrusted", nil, "127.0.0.1"},
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.9, 127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startWith(t, Options{StateDir: t.TempDir(), Proxy: proxy.Config{TrustedProxies: tc.trusted}})
			listen := freeAddr(t)
			dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1})
			if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
				t.Fatalf("deploy: %s %s", got.Status, got.Reason)
			}
			req, _ := http.NewRequest(http.MethodGet, "http://"+listen+"/echo", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var echo struct {
				Headers map[string][]string `json:"headers"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(echo.Headers["X-Forwarded-For"], ", "); got != tc.want {
				t.Errorf("the app saw X-Forwarded-For %q, want %q", got, tc.want)
			}
		})
	}
}

// TestUnreadyInstanceFinishesInFlight makes one of two instances unready while it serves a
// slow request (SIGTERM: the demo app fails /healthz and keeps serving for SHUTDOWN_DELAY):
// its readiness probe takes it out of the proxy, later requests all go to the other
// instance, and the slow request still completes with 200 from it.
func TestUnreadyInstanceFinishesInFlight(t *testing.T) {
	h := newHarness(t)
	listen := freeAddr(t)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 2, Env: map[string]string{"SHUTDOWN_DELAY": "5s"}})
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy: %s %s", got.Status, got.Reason)
	}
	svc, err := h.client.Service(context.Background(), "web")
	if err != nil || len(svc.Instances) != 2 {
		t.Fatalf("service: %+v %v, want 2 instances", svc, err)
	}

	type answer struct {
		status   int
		instance string
		err      error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := (&http.Client{Timeout: time.Minute}).Get("http://" + listen + "/slow?d=2s")
		if err != nil {
			done <- answer{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- answer{status: resp.StatusCode, instance: resp.Header.Get("X-Instance")}
	}()
	var victim string
	waitFor(t, 10*time.Second, "the slow request in flight", func() bool {
		for _, in := range svc.Instances {
			if h.d.proxy.InFlight(in.ID) > 0 {
				victim = in.ID
				return true
			}
		}
		return false
	})
	st, err := h.d.driver.Status(context.Background(), victim)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the instance out of the proxy", func() bool {
		s, err := h.client.Service(context.Background(), "web")
		if err != nil {
			return false
		}
		for _, in := range s.Instances {
			if in.ID == victim {
				return !in.Target
			}
		}
		return false
	})
	victimSuffix := fmt.Sprintf("-%d", st.PID)
	for i := range 20 {
		resp, err := http.Get("http://" + listen + "/")
		if err != nil {
			t.Fatalf("request %d while it drains: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.HasSuffix(resp.Header.Get("X-Instance"), victimSuffix) {
			t.Fatalf("request %d while it drains: %d from %q, want 200 from the other instance", i, resp.StatusCode, resp.Header.Get("X-Instance"))
		}
	}
	got := <-done
	if got.err != nil || got.status != http.StatusOK || !strings.HasSuffix(got.instance, victimSuffix) {
		t.Errorf("the in-flight request: %d from %q (%v), want 200 from the unready instance (pid %d)", got.status, got.instance, got.err, st.PID)
	}
}
