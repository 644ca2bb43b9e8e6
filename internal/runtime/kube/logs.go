package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// streamLogs copies the current pod's log through the apiserver; with follow it keeps
// copying until the container ends, then waits for ctx.
func (d *Driver) streamLogs(ctx context.Context, id string, follow bool, w io.Writer) error {
	rc, err := d.openLogs(ctx, id, follow)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	return copyLogs(ctx, id, rc, w)
}

// openLogs opens the current pod's log stream through the apiserver.
func (d *Driver) openLogs(ctx context.Context, id string, follow bool) (io.ReadCloser, error) {
	req := d.pods().GetLogs(podName(id), &corev1.PodLogOptions{Container: "app", Follow: follow})
	rc, err := req.Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs %s: %w", id, err)
	}
	return rc, nil
}

// copyLogs copies an open log stream to w and closes it.
func copyLogs(ctx context.Context, id string, rc io.ReadCloser, w io.Writer) error {
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	return nil
}

// awaitStarted waits until the node has started pod name's container (running, or exited
// and restarting) and fails when the node reports it cannot run the image.
func (d *Driver) awaitStarted(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		p, err := d.pods().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("pod %s: %w", name, err)
		}
		if done, err := startOutcome(p); done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s: %w after %s", name, errWaitStart, startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// imageFailures are the waiting reasons that mean the node cannot run the image.
var imageFailures = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"ErrImageNeverPull": true, "CreateContainerConfigError": true, "RunContainerError": true}

// startOutcome says whether p's container has started (nil) or cannot start (an error).
func startOutcome(p *corev1.Pod) (bool, error) {
	if len(p.Status.ContainerStatuses) == 0 {
		return false, nil
	}
	cs := p.Status.ContainerStatuses[0]
	if w := cs.State.Waiting; w != nil {
		if imageFailures[w.Reason] {
			return true, fmt.Errorf("%s: %s", w.Reason, w.Message)
		}
		return cs.RestartCount > 0, nil
	}
	return true, nil
}
