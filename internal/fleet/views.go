package fleet

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/explain"
	"github.com/cutover/cutover/internal/spec"
)

// InstanceView is what the fleet shows of one instance.
type InstanceView struct {
	ID       string
	Revision int
	// State is the runtime's state, or "stopping" once the fleet stops it.
	State    string
	Addr     string
	Ready    bool
	Live     bool
	Target   bool // the proxy routes to it
	Restarts int
	// Message is the runtime's last message, else the prober's.
	Message string
	Started time.Time
	// PID is the instance's process on this host (a container's main process), 0 if none.
	PID int
}

// explanation is why the instance is not serving: the runtime's word, else the probes', and
// the end of its output once it went down. The view's lock is held.
func (in *instance) explanation() string {
	msg := in.status.Message
	if msg == "" {
		msg = in.message
	}
	return explain.Message(msg, in.output)
}

// view is in as InstanceView. The view's lock is held.
func (in *instance) view() InstanceView {
	state := string(in.status.State)
	if in.stopping {
		state = "stopping"
	}
	msg := in.explanation()
	return InstanceView{ID: in.rec.ID, Revision: in.rec.Revision, State: state, Addr: in.status.Addr,
		Ready: in.ready, Live: in.live, Target: in.serving(), Restarts: in.status.Restarts, Message: msg, Started: in.rec.CreatedAt,
		PID: in.status.PID}
}

// Stable is a service's stable revision (0: none yet) and the database section of its
// current spec (nil: none).
type Stable struct {
	Revision int
	Database *spec.Database
}

// RunningDatabases maps each revision of service with instances to its database section
// (nil when the revision has none or its spec cannot be read).
func (f *Fleet) RunningDatabases(ctx context.Context, service string) map[int]*spec.Database {
	out := map[int]*spec.Database{}
	for _, rev := range f.RunningRevisions(service) {
		rs, err := f.RevisionSpec(ctx, service, rev)
		if err != nil {
			out[rev] = nil
			continue
		}
		out[rev] = rs.Database
	}
	return out
}
