// Package kube is the Kubernetes runtime driver: each instance is a Pod, labelled with its
// service, revision, instance and owner and owned by one ConfigMap per revision (deleting
// it garbage-collects the revision's pods). The kubelet supervises the container (restarts,
// backoff); the driver maps pod status to runtime.Status, reads logs through the apiserver,
// stops with the pod's grace period, and keeps what remains of a stopped instance (its exit
// and the tail of its log) in a ConfigMap so Status and Logs still answer after the pod is
// gone. A new driver with the same owner finds everything again from labels.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/runtime"
)

// Label and annotation keys the driver sets.
const (
	LabelManaged  = "app.kubernetes.io/managed-by"
	LabelOwner    = "cutover.dev/owner"
	LabelService  = "cutover.dev/service"
	LabelRevision = "cutover.dev/revision"
	LabelInstance = "cutover.dev/instance"
	LabelRecord   = "cutover.dev/record"
	AnnotationID  = "cutover.dev/instance-id"
)

// Options configure a Driver.
type Options struct {
	Client    kubernetes.Interface
	Namespace string
	// Owner tells this driver's objects from others' in the namespace (a daemon's identity).
	Owner string
	// PullNever sets imagePullPolicy Never: Check then requires a node to report the image.
	PullNever bool
	// DefaultPort is the container port when a spec names none (default 8080).
	DefaultPort int
	// ServiceAccount, when set, is the pods' service account.
	ServiceAccount string
}

// Driver is the Kubernetes runtime.Driver.
type Driver struct {
	opts Options

	mu   sync.Mutex
	seen map[string]seenStart // pod UID → when this driver first saw its current start
}

var _ runtime.Driver = (*Driver)(nil)

// New returns a driver; it starts nothing.
func New(opts Options) (*Driver, error) {
	if opts.Client == nil {
		return nil, errors.New("kubernetes driver: no client")
	}
	if opts.Namespace == "" {
		return nil, errors.New("kubernetes driver: namespace is required")
	}
	if opts.Owner == "" {
		return nil, errors.New("kubernetes driver: owner is required")
	}
	if opts.DefaultPort == 0 {
		opts.DefaultPort = 8080
	}
	return &Driver{opts: opts, seen: map[string]seenStart{}}, nil
}

// Start implements runtime.Driver: every spec is mapped before any pod is created, so one
// that cannot map creates nothing. It returns once each pod's container has started or
// failed to (an image the node cannot run is an error naming it, and its pod is deleted).
func (d *Driver) Start(ctx context.Context, specs []runtime.InstanceSpec) error {
	pods, err := d.podsFor(specs)
	if err != nil {
		return err
	}
	for i, p := range pods {
		if err := d.create(ctx, specs[i], p); err != nil {
			return fmt.Errorf("start %s: %w", specs[i].ID, err)
		}
	}
	for i, p := range pods {
		if err := d.awaitStarted(ctx, p.Name); err != nil {
			d.deleteNow(p.Name)
			return fmt.Errorf("start %s: image %s: %w", specs[i].ID, specs[i].Image, err)
		}
	}
	return nil
}

// Check implements runtime.Driver: the spec maps to a pod, this client may create pods in
// the namespace, and (with PullNever) a node has the image.
func (d *Driver) Check(ctx context.Context, s runtime.InstanceSpec) error {
	if _, err := d.podFor(s); err != nil {
		return err
	}
	if err := d.canCreatePods(ctx); err != nil {
		return err
	}
	if d.opts.PullNever {
		return d.imageOnNode(ctx, s.Image)
	}
	return nil
}

// Adopt implements runtime.Driver: the kubelet supervises pods, so adopting only checks
// that each instance exists.
func (d *Driver) Adopt(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, err := d.Status(ctx, id); err != nil {
			return fmt.Errorf("adopt %s: %w", id, err)
		}
	}
	return nil
}

// Restart implements runtime.Driver: the pod is deleted with its grace period and created
// again under the same name; the old pod's log stays readable through Logs.
func (d *Driver) Restart(ctx context.Context, id string) error {
	p, err := d.getPod(ctx, id)
	if err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	if err := d.Stop(ctx, id); err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	fresh := freshCopy(p)
	if _, err := d.pods().Create(ctx, fresh, createOpts); err != nil {
		return fmt.Errorf("restart %s: create pod: %w", id, err)
	}
	return nil
}

// Logs implements runtime.Driver: the kept log of earlier pods of the instance, then the
// current pod's log through the apiserver (followed until ctx is done when follow is set).
func (d *Driver) Logs(ctx context.Context, id string, follow bool, w io.Writer) error {
	rec, recErr := d.getRecord(ctx, id)
	if recErr == nil {
		if _, err := io.WriteString(w, rec.Log); err != nil {
			return err
		}
	}
	_, err := d.getPod(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) && recErr == nil {
		if follow {
			<-ctx.Done()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	return d.streamLogs(ctx, id, follow, w)
}

// Close implements runtime.Driver; the driver holds no goroutines or connections of its own.
func (d *Driver) Close() error { return nil }

var errWaitStart = errors.New("container did not start")

// startTimeout bounds how long Start waits for the node to start a container.
const startTimeout = 2 * time.Minute
