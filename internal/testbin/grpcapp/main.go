// Command grpcapp is a small gRPC service for tests that deploy a gRPC service through a real
// daemon: gRPC's test service (grpc.testing.TestService) over plaintext HTTP/2 on
// 127.0.0.1:$PORT. UnaryCall answers VERSION as its server id, FullDuplexCall echoes each
// message. FAIL_EVERY=N answers UNAVAILABLE to every N-th unary call (20: 5 %);
// STARTUP_DELAY waits before listening. SIGTERM stops it gracefully: it stops accepting, lets
// the calls and streams in flight finish, then exits.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/cutover/cutover/internal/testbin/grpcecho"
)

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
	a := &grpcecho.Server{ID: os.Getenv("VERSION")}
	if v := os.Getenv("FAIL_EVERY"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("FAIL_EVERY %q: want a positive integer", v)
		}
		a.FailEvery = n
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
	fmt.Printf("grpcapp %s listening on %s\n", a.ID, ln.Addr())
	return srv.Serve(ln)
}
