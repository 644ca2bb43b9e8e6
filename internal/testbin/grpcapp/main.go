// Command grpcapp is a small gRPC service for tests that deploy a gRPC service through a real
// daemon: gRPC's test service (grpc.testing.TestService) over plaintext HTTP/2 on
// 127.0.0.1:$PORT. UnaryCall answers VERSION as its server id, FullDuplexCall echoes each
// message. FAIL_EVERY=N answers UNAVAILABLE to every N-th unary call (20: 5 %);
// STARTUP_DELAY waits before listening. SIGTERM stops it gracefully: it stops accepting, lets
// the calls and streams in flight finish, then exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

type app struct {
	testpb.UnimplementedTestServiceServer
	version   string
	failEvery int64
	calls     atomic.Int64
}

func (a *app) UnaryCall(_ context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	n := a.calls.Add(1)
	if a.failEvery > 0 && n%a.failEvery == 0 {
		return nil, status.Error(codes.Unavailable, "injected failure")
	}
	return &testpb.SimpleResponse{ServerId: a.version, Payload: in.Payload}, nil
}

func (a *app) FullDuplexCall(s grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		in, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: in.Payload}); err != nil {
			return err
		}
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "grpcapp:", err)
		os.Exit(2)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		return errors.New("PORT is required")
	}
	a := &app{version: os.Getenv("VERSION")}
	if v := os.Getenv("FAIL_EVERY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("FAIL_EVERY %q: want a positive integer", v)
		}
		a.failEvery = n
	}
	if v := os.Getenv("STARTUP_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("STARTUP_DELAY %q: %w", v, err)
		}
		time.Sleep(d)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, a)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		fmt.Println("shutting down")
		srv.GracefulStop()
	}()
	fmt.Printf("grpcapp %s listening on %s\n", a.version, ln.Addr())
	return srv.Serve(ln)
}
