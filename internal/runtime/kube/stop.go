package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/cutover/cutover/internal/runtime"
)

// Stop implements runtime.Driver: the pod is deleted with the spec's grace period (the
// kubelet sends SIGTERM, then SIGKILL), and Stop returns once the pod is gone, keeping its
// final status and the tail of its log in the instance's record.
func (d *Driver) Stop(ctx context.Context, id string) error {
	p, err := d.getPod(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	// The log stream is open before the delete, so it sees the container's last words.
	tail := newTail(logTailBytes)
	logsDone := make(chan struct{})
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, lerr := d.openLogs(lctx, id, true)
	go func() {
		defer close(logsDone)
		if lerr == nil {
			_ = copyLogs(lctx, id, rc, tail)
		}
	}()
	uid := p.UID
	err = d.pods().Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: p.Spec.TerminationGracePeriodSeconds,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("stop %s: delete pod: %w", id, err)
	}
	last := p
	if err := d.waitGone(ctx, p.Name, func(q *corev1.Pod) { last = q }); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	select {
	case <-logsDone:
	case <-time.After(2 * time.Second):
	}
	cancel()
	<-logsDone
	d.forgetSeen(string(uid))
	return d.putRecord(ctx, id, exitedStatus(d.statusOf(last)), tail.String())
}

// exitedStatus is a pod's last status as the record of a stopped instance.
func exitedStatus(st runtime.Status) runtime.Status {
	st.State, st.Addr, st.Health = runtime.StateExited, "", runtime.HealthUnknown
	return st
}

// waitGone waits until pod name no longer exists, passing each version it sees to seen.
func (d *Driver) waitGone(ctx context.Context, name string, seen func(*corev1.Pod)) error {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	for {
		list, err := d.pods().List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return fmt.Errorf("watch pod %s: %w", name, err)
		}
		if len(list.Items) == 0 {
			return nil
		}
		if seen != nil {
			seen(&list.Items[0])
		}
		w, err := d.pods().Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.ResourceVersion})
		if err != nil {
			return fmt.Errorf("watch pod %s: %w", name, err)
		}
		gone := drain(w, seen)
		w.Stop()
		if gone {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pod %s still exists: %w", name, ctx.Err())
		}
	}
}

// drain reads events until the pod is deleted (true) or the watch ends (false).
func drain(w watch.Interface, seen func(*corev1.Pod)) bool {
	for ev := range w.ResultChan() {
		p, ok := ev.Object.(*corev1.Pod)
		if ok && seen != nil {
			seen(p)
		}
		if ev.Type == watch.Deleted {
			return true
		}
	}
	return false
}

func (d *Driver) forgetSeen(uid string) {
	d.mu.Lock()
	delete(d.seen, uid)
	d.mu.Unlock()
}

// Remove implements runtime.Driver: it deletes a stopped instance's record; a pod that still
// exists is an error.
func (d *Driver) Remove(ctx context.Context, id string) error {
	if _, err := d.getPod(ctx, id); err == nil {
		return fmt.Errorf("remove %s: its pod still exists; stop it first", id)
	} else if !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	err := d.configMaps().Delete(ctx, recordName(id), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("remove %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}
