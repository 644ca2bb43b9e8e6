// Package grpcecho is the gRPC service the tests run, in-process (the proxy's tests) and as
// the grpcapp command (through a real daemon): gRPC's own test service
// (grpc.testing.TestService), where UnaryCall answers its ID and FullDuplexCall echoes.
package grpcecho

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// Server answers UnaryCall with ID as its server id (INVALID_ARGUMENT for a negative response
// size, UNAVAILABLE on every FailEvery-th call when FailEvery > 0) and echoes each message of
// FullDuplexCall.
type Server struct {
	testpb.UnimplementedTestServiceServer
	ID        string
	FailEvery int64
	calls     atomic.Int64
}

// UnaryCall implements the test service's unary method.
func (s *Server) UnaryCall(_ context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	n := s.calls.Add(1)
	if in.ResponseSize < 0 {
		return nil, status.Error(codes.InvalidArgument, "negative response size")
	}
	if s.FailEvery > 0 && n%s.FailEvery == 0 {
		return nil, status.Error(codes.Unavailable, "injected failure")
	}
	return &testpb.SimpleResponse{ServerId: s.ID, Payload: in.Payload}, nil
}

// FullDuplexCall implements the test service's bidirectional stream: each message echoed.
func (s *Server) FullDuplexCall(st grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		in, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: in.Payload}); err != nil {
			return err
		}
	}
}
