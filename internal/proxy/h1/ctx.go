package h1

import "context"

// connContext is the context of a connection's requests. The loop does not read a connection
// while its handler runs (net/http's background read costs a wake-up and a deadline change per
// request), so it learns that the client left only when asked: Err looks at the socket without
// reading it (peerGone) and cancels the context once the client has closed or reset it.
// Callers that poll Err (the upstream client does, once a second while it waits) see a client
// that left; Done closes only once Err or the end of the connection has noticed.
type connContext struct {
	context.Context
	cancel context.CancelFunc
	c      *conn
}

func (x *connContext) Err() error {
	if err := x.Context.Err(); err != nil {
		return err
	}
	if peerGone(x.c.nc) {
		x.cancel()
		return x.Context.Err()
	}
	return nil
}
