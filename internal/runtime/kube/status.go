package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cutover/cutover/internal/runtime"
)

// crashLoopAfter is the restart count from which a container in back-off is in a crash loop
// rather than restarting.
const crashLoopAfter = 3

// seenStart is when this driver first saw a container start (the API keeps whole seconds).
type seenStart struct {
	restarts int
	at       time.Time
}

// Status implements runtime.Driver: the pod's status, or the record of a stopped instance.
func (d *Driver) Status(ctx context.Context, id string) (runtime.Status, error) {
	p, err := d.getPod(ctx, id)
	if err == nil {
		return d.statusOf(p), nil
	}
	if !errors.Is(err, runtime.ErrNotFound) {
		return runtime.Status{}, err
	}
	rec, rerr := d.getRecord(ctx, id)
	if rerr != nil {
		return runtime.Status{}, rerr
	}
	return rec.Status, nil
}

// List implements runtime.Driver: this owner's pods and records of stopped instances.
func (d *Driver) List(ctx context.Context) ([]runtime.Status, error) {
	pods, err := d.pods().List(ctx, metav1.ListOptions{LabelSelector: d.mine(nil)})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	out := make([]runtime.Status, 0, len(pods.Items))
	live := map[string]bool{}
	for i := range pods.Items {
		st := d.statusOf(&pods.Items[i])
		live[st.ID] = true
		out = append(out, st)
	}
	recs, err := d.listRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if !live[r.Status.ID] {
			out = append(out, r.Status)
		}
	}
	return out, nil
}

// statusOf maps a pod to a runtime.Status.
func (d *Driver) statusOf(p *corev1.Pod) runtime.Status {
	st := runtime.Status{ID: p.Annotations[AnnotationID], Service: p.Labels[LabelService], State: runtime.StateStarting}
	st.Revision, _ = strconv.Atoi(p.Labels[LabelRevision])
	if len(p.Status.ContainerStatuses) == 0 {
		return stopping(p, st)
	}
	cs := p.Status.ContainerStatuses[0]
	st.Restarts = int(cs.RestartCount)
	if t := cs.LastTerminationState.Terminated; t != nil {
		st.ExitCode, st.Message = int(t.ExitCode), t.Message
	}
	switch {
	case cs.State.Running != nil:
		st.State = runtime.StateRunning
		st.StartedAt = d.startedAt(p, cs)
		if p.Status.PodIP != "" {
			st.Addr = net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(p.Spec.Containers[0].Ports[0].ContainerPort)))
		}
	case cs.State.Waiting != nil:
		st.State, st.Message = waitingState(cs), cs.State.Waiting.Message
	case cs.State.Terminated != nil:
		st.State, st.ExitCode, st.Message = runtime.StateExited, int(cs.State.Terminated.ExitCode), cs.State.Terminated.Message
	}
	st.Health = health(p)
	return stopping(p, st)
}

func stopping(p *corev1.Pod, st runtime.Status) runtime.Status {
	if p.DeletionTimestamp != nil && st.State != runtime.StateExited {
		st.State = runtime.StateStopping
	}
	return st
}

func waitingState(cs corev1.ContainerStatus) runtime.State {
	if cs.State.Waiting.Reason != "CrashLoopBackOff" {
		return runtime.StateStarting
	}
	if cs.RestartCount > crashLoopAfter {
		return runtime.StateCrashLoop
	}
	return runtime.StateRestarting
}

// health is the pod's Ready condition when its container has a readiness probe.
func health(p *corev1.Pod) runtime.Health {
	if p.Spec.Containers[0].ReadinessProbe == nil {
		return runtime.HealthUnknown
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return runtime.HealthHealthy
		}
	}
	return runtime.HealthStarting
}

// startedAt is the container's start, made precise by when this driver first saw it: the
// API keeps whole seconds, and a restart within the same second must still look new.
func (d *Driver) startedAt(p *corev1.Pod, cs corev1.ContainerStatus) time.Time {
	api := cs.State.Running.StartedAt.Time
	d.mu.Lock()
	defer d.mu.Unlock()
	key := string(p.UID)
	s, ok := d.seen[key]
	if !ok || s.restarts != int(cs.RestartCount) {
		s = seenStart{restarts: int(cs.RestartCount), at: api}
		if time.Since(api) < 2*time.Second {
			s.at = time.Now()
		}
		d.seen[key] = s
	}
	return s.at
}
