package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/cutover/cutover/internal/testbin/grpcecho"
)

// grpcApp is a real gRPC server (grpcecho: UnaryCall answers its id, INVALID_ARGUMENT for a
// negative response size, UNAVAILABLE on every failEvery-th call when set; FullDuplexCall
// echoes) on a loopback port.
type grpcApp struct {
	srv  *grpc.Server
	addr string
}

func startGRPC(t *testing.T, id string, failEvery int64) *grpcApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &grpcApp{srv: grpc.NewServer(), addr: ln.Addr().String()}
	testpb.RegisterTestServiceServer(a.srv, &grpcecho.Server{ID: id, FailEvery: failEvery})
	go func() { _ = a.srv.Serve(ln) }()
	t.Cleanup(a.srv.Stop)
	return a
}

func grpcTarget(id string, rev int, a *grpcApp) Group {
	return Group{Revision: rev, Weight: 100, Targets: []Target{{ID: id, Addr: a.addr}}}
}

// grpcClient connects to the proxy in HTTP/2 without TLS (gRPC's plaintext, h2c).
func grpcClient(t *testing.T, addr string) testpb.TestServiceClient {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return testpb.NewTestServiceClient(cc)
}

// oneStream runs a bidirectional stream of n echoed messages.
func oneStream(ctx context.Context, c testpb.TestServiceClient, n int) error {
	s, err := c.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	for i := range n {
		body := []byte{byte(i)}
		if err := s.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
		got, err := s.Recv()
		if err != nil {
			return err
		}
		if len(got.Payload.GetBody()) != 1 || got.Payload.Body[0] != byte(i) {
			return errors.New("stream echoed the wrong message")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Unary and streaming gRPC calls pass through the proxy (h2c on both sides, grpc-status in
// the trailers) while the service moves from one revision to another and the old one drains
// and stops: no call fails. A client's INVALID_ARGUMENT reaches it and is not the revision's
// error.
func TestGRPCThroughDeploy(t *testing.T) {
	v1, v2 := startGRPC(t, "v1", 0), startGRPC(t, "v2", 0)
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "rpc", Protocol: ProtocolH2C})
	p.SetTargets("rpc", []Group{grpcTarget("a", 1, v1)}, 0)
	c := grpcClient(t, addr)
	ctx := context.Background()

	_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: -1})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a call the app refuses: got %v, want INVALID_ARGUMENT from the trailers", err)
	}
	var calls, streams, failed atomic.Int64
	var firstErr atomic.Value
	seen := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if w%2 == 0 {
					var r *testpb.SimpleResponse
					if r, err = c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("x")}}); err == nil {
						seen.Store(r.ServerId, true)
						calls.Add(1)
					}
				} else if err = oneStream(ctx, c, 5); err == nil {
					streams.Add(1)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	p.SetTargets("rpc", []Group{grpcTarget("a", 1, v1), grpcTarget("b", 2, v2)}, 0)
	time.Sleep(300 * time.Millisecond)
	p.SetTargets("rpc", []Group{grpcTarget("b", 2, v2)}, 0)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := p.Drain(dctx, "a", 0); err != nil {
		t.Errorf("drain of the old revision: %v", err)
	}
	cancel()
	v1.srv.GracefulStop()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed (%d unary, %d streams ok); first: %v", failed.Load(), calls.Load(), streams.Load(), firstErr.Load())
	}
	for _, id := range []string{"v1", "v2"} {
		if _, ok := seen.Load(id); !ok {
			t.Errorf("no call reached %s", id)
		}
	}
	if calls.Load() == 0 || streams.Load() == 0 {
		t.Fatalf("unary %d, streams %d: want both", calls.Load(), streams.Load())
	}
	if e := p.Stats("rpc")[1].Errors; e != 0 {
		t.Errorf("revision 1 counted %d errors, want 0 (INVALID_ARGUMENT is the client's)", e)
	}
	t.Logf("%d unary calls and %d streams through the switch, none failed", calls.Load(), streams.Load())
}

// A revision that answers UNAVAILABLE on 5% of its calls has those counted as its errors
// (what the canary judge reads), though every HTTP status was 200.
func TestGRPCStatusCountsForTheJudge(t *testing.T) {
	bad := startGRPC(t, "bad", 20)
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "rpc", Protocol: ProtocolH2C})
	p.SetTargets("rpc", []Group{grpcTarget("a", 3, bad)}, 0)
	c := grpcClient(t, addr)
	unavailable := 0
	for range 200 {
		if _, err := c.UnaryCall(context.Background(), &testpb.SimpleRequest{}); status.Code(err) == codes.Unavailable {
			unavailable++
		}
	}
	st := p.Stats("rpc")[3]
	if unavailable != 10 || st.Errors != int64(unavailable) || st.Requests != 200 {
		t.Fatalf("UNAVAILABLE %d of 200; counted %d errors of %d requests, want 10 of 200", unavailable, st.Errors, st.Requests)
	}
}

// Over TLS the proxy offers HTTP/2 by ALPN: an HTTP/2 client is served in HTTP/2 (and a
// gRPC client with TLS reaches an h2c service), an HTTP/1.1 client in HTTP/1.1.
func TestTLSServesHTTP2(t *testing.T) {
	files, pool := selfSigned(t, t.TempDir(), "rpc.example")
	p := startProxy(t, Config{})
	addr := route(t, p, Route{Service: "web", TLS: files})
	p.SetTargets("web", one(named(t, "v1")), 0)
	for _, h2 := range []bool{true, false} {
		c := tlsClient(pool, "rpc.example")
		c.Transport.(*http.Transport).ForceAttemptHTTP2 = h2
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := 1
		if h2 {
			want = 2
		}
		if resp.StatusCode != 200 || string(body) != "v1" || resp.ProtoMajor != want {
			t.Errorf("h2 offered %v: got %d %q over %s, want 200 v1 over HTTP/%d", h2, resp.StatusCode, body, resp.Proto, want)
		}
	}

	app := startGRPC(t, "tls", 0)
	if err := p.SetRoute(Route{Service: "rpc", Listen: "127.0.0.1:0", Hosts: []string{"rpc.example"}, Paths: []string{"/grpc.testing.TestService/"},
		TLS: files, Protocol: ProtocolH2C}); err != nil {
		t.Fatal(err)
	}
	p.SetTargets("rpc", []Group{grpcTarget("g", 1, app)}, 0)
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithAuthority("rpc.example"),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "rpc.example"})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := oneStream(ctx, testpb.NewTestServiceClient(cc), 3); err != nil {
		t.Fatalf("gRPC stream over TLS: %v", err)
	}
}
