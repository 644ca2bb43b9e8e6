package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/cutover/cutover/internal/testbin"
)

// grpcSpec is the gRPC test service (internal/testbin/grpcapp) behind an h2c route, ready
// when its port accepts a connection.
func grpcSpec(listen, version, strategy string, env map[string]string) appSpec {
	return appSpec{Name: "rpc", Listen: listen, Version: version, Replicas: 2, Env: env, Strategy: strategy,
		Probes: "probes:\n  readiness:\n    tcp: {}\n    period: 100ms\n", Route: "protocol: h2c\n"}
}

// grpcLoad is a steady stream of unary calls and bidirectional streams through the proxy,
// each kind on its own client connection (HTTP/2, plaintext), counted by outcome.
type grpcLoad struct {
	unary, streams atomic.Int64
	injected       atomic.Int64 // UNAVAILABLE answered by a canary told to fail (FAIL_EVERY)
	failed         atomic.Int64
	mu             sync.Mutex
	firstErr       error
	versions       map[string]int
	stop           chan struct{}
	wg             sync.WaitGroup
}

// startGRPCLoad runs two unary workers and two stream workers against addr until stopLoad,
// at most 10 minutes (each worker paces itself at about 200 calls per second).
func startGRPCLoad(t *testing.T, addr string) *grpcLoad {
	t.Helper()
	l := &grpcLoad{versions: map[string]int{}, stop: make(chan struct{})}
	for w := range 4 {
		cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		c := testpb.NewTestServiceClient(cc)
		deadline := time.Now().Add(10 * time.Minute)
		l.wg.Go(func() {
			for time.Now().Before(deadline) {
				select {
				case <-l.stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if w%2 == 0 {
					l.unaryCall(c)
				} else {
					l.stream(c)
				}
			}
		})
	}
	return l
}

func (l *grpcLoad) unaryCall(c testpb.TestServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("ping")}})
	switch {
	case err == nil:
		l.unary.Add(1)
		l.mu.Lock()
		l.versions[r.ServerId]++
		l.mu.Unlock()
	case status.Code(err) == codes.Unavailable && strings.Contains(status.Convert(err).Message(), "injected failure"):
		l.injected.Add(1)
	default:
		l.fail(err)
	}
}

// stream runs one bidirectional stream of 10 echoed messages, 5 ms apart.
func (l *grpcLoad) stream(c testpb.TestServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := echoStream(ctx, c, 10); err != nil {
		l.fail(err)
		return
	}
	l.streams.Add(1)
}

func echoStream(ctx context.Context, c testpb.TestServiceClient, n int) error {
	s, err := c.FullDuplexCall(ctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	for i := range n {
		if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: []byte{byte(i)}}}); err != nil {
			return fmt.Errorf("stream send %d: %w", i, err)
		}
		got, err := s.Recv()
		if err != nil {
			return fmt.Errorf("stream receive %d: %w", i, err)
		}
		if b := got.Payload.GetBody(); len(b) != 1 || b[0] != byte(i) {
			return fmt.Errorf("stream message %d echoed as %v", i, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.CloseSend(); err != nil {
		return fmt.Errorf("stream close: %w", err)
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("stream end: %v", err)
	}
	return nil
}

func (l *grpcLoad) fail(err error) {
	l.failed.Add(1)
	l.mu.Lock()
	if l.firstErr == nil {
		l.firstErr = err
	}
	l.mu.Unlock()
}

// stopLoad ends the load and returns a summary.
func (l *grpcLoad) stopLoad() string {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d unary calls ok, %d streams ok, %d injected UNAVAILABLE, %d failed (first: %v), by version %v",
		l.unary.Load(), l.streams.Load(), l.injected.Load(), l.failed.Load(), l.firstErr, l.versions)
}

func (l *grpcLoad) seen(version string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.versions[version]
}

// A gRPC service (a real grpc-go server process) deployed through a real daemon rolling,
// blue-green and canary while unary calls and bidirectional streams flow through the proxy:
// no call fails, and every version answered.
func TestGRPCServiceDeploysWithEveryStrategy(t *testing.T) {
	h := newHarness(t)
	h.app = testbin.GRPCApp(t)
	listen := freeAddr(t)
	first := h.deploy(grpcSpec(listen, "v1", "rolling: {max_surge: 1, max_unavailable: 0}\n", nil))
	if got := h.wait(first.ID, 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deployment: %s %q", got.Status, got.Reason)
	}
	load := startGRPCLoad(t, listen)
	waitFor(t, 30*time.Second, "calls answered by v1", func() bool { return load.seen("v1") > 20 })
	steps := []struct{ version, strategy string }{
		{"v2", "rolling: {max_surge: 1, max_unavailable: 0}\n"},
		{"v3", "blue_green: {scale_down_delay: 1s}\n"},
		{"v4", "canary:\n  steps:\n    - weight: 30\n    - pause: 2s\n    - weight: 100\n"},
	}
	for _, s := range steps {
		dep := h.deploy(grpcSpec(listen, s.version, s.strategy, nil))
		if got := h.wait(dep.ID, 2*time.Minute); got.Status != "succeeded" {
			t.Fatalf("deploy %s (%s): %s %q; load: %s", s.version, strings.Fields(s.strategy)[0], got.Status, got.Reason, load.stopLoad())
		}
		waitFor(t, 30*time.Second, "calls answered by "+s.version, func() bool { return load.seen(s.version) > 20 })
	}
	time.Sleep(500 * time.Millisecond)
	sum := load.stopLoad()
	t.Logf("load: %s", sum)
	if load.failed.Load() != 0 || load.injected.Load() != 0 {
		t.Fatalf("calls failed through rolling, blue-green and canary deploys: %s", sum)
	}
	if load.unary.Load() < 100 || load.streams.Load() < 20 {
		t.Fatalf("too little load to say anything: %s", sum)
	}
}

// A gRPC canary that answers UNAVAILABLE to 5 % of its calls (HTTP status 200, grpc-status
// 14 in the trailers) is judged failing from the proxy's counts and rolled back; no call
// fails but the canary's own injected ones.
func TestGRPCCanaryWithUnavailableRolledBack(t *testing.T) {
	h := newHarness(t)
	h.app = testbin.GRPCApp(t)
	listen := freeAddr(t)
	first := h.deploy(grpcSpec(listen, "v1", "", nil))
	if got := h.wait(first.ID, 60*time.Second); got.Status != "succeeded" {
		t.Fatalf("first deployment: %s %q", got.Status, got.Reason)
	}
	load := startGRPCLoad(t, listen)
	waitFor(t, 30*time.Second, "calls answered by v1", func() bool { return load.seen("v1") > 20 })
	bad := h.deploy(grpcSpec(listen, "v2", "canary:\n  steps:\n    - weight: 50\n    - analysis: {duration: 3m}\n    - weight: 100\n",
		map[string]string{"FAIL_EVERY": "20"}))
	got := h.wait(bad.ID, 4*time.Minute)
	time.Sleep(300 * time.Millisecond)
	sum := load.stopLoad()
	t.Logf("deployment %s %q; load: %s", got.Status, got.Reason, sum)
	if got.Status != "rolled_back" || got.Verdict == nil || got.Verdict.Outcome != "fail" {
		verdict := "none"
		if v := got.Verdict; v != nil {
			verdict = v.Outcome + ": " + v.Reason
		}
		t.Fatalf("deployment: %s %q verdict %s; want rolled_back on a fail verdict", got.Status, got.Reason, verdict)
	}
	if load.injected.Load() == 0 || load.seen("v2") == 0 {
		t.Fatalf("the canary was never reached: %s", sum)
	}
	if load.failed.Load() != 0 {
		t.Fatalf("calls failed beyond the canary's injected UNAVAILABLE: %s", sum)
	}
}
