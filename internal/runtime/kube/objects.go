package kube

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/cutover/cutover/internal/runtime"
)

func (d *Driver) pods() typedcorev1.PodInterface {
	return d.opts.Client.CoreV1().Pods(d.opts.Namespace)
}

func (d *Driver) configMaps() typedcorev1.ConfigMapInterface {
	return d.opts.Client.CoreV1().ConfigMaps(d.opts.Namespace)
}

// mine selects this owner's objects, plus extra label requirements.
func (d *Driver) mine(extra map[string]string) string {
	set := labels.Set{LabelManaged: "cutover", LabelOwner: labelValue(d.opts.Owner)}
	for k, v := range extra {
		set[k] = v
	}
	return set.String()
}

func (d *Driver) owned(m metav1.Object) bool {
	l := m.GetLabels()
	return l[LabelManaged] == "cutover" && l[LabelOwner] == labelValue(d.opts.Owner)
}

// getPod returns this owner's pod of instance id, or runtime.ErrNotFound.
func (d *Driver) getPod(ctx context.Context, id string) (*corev1.Pod, error) {
	p, err := d.pods().Get(ctx, podName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && !d.owned(p)) {
		return nil, fmt.Errorf("instance %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s: %w", podName(id), err)
	}
	return p, nil
}

// create creates s's pod under its revision's owner object; a pod of this owner that
// already exists is adopted as it is.
func (d *Driver) create(ctx context.Context, s runtime.InstanceSpec, p *corev1.Pod) error {
	owner, err := d.revisionOwner(ctx, s)
	if err != nil {
		return err
	}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap",
		Name: owner.Name, UID: owner.UID}}
	_, err = d.pods().Create(ctx, p, createOpts)
	if apierrors.IsAlreadyExists(err) {
		if _, gerr := d.getPod(ctx, s.ID); gerr != nil {
			return fmt.Errorf("pod %s exists and belongs to another owner", p.Name)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create pod %s: %w", p.Name, err)
	}
	return nil
}

// revisionOwner returns the ConfigMap that owns a revision's pods, creating it when missing.
func (d *Driver) revisionOwner(ctx context.Context, s runtime.InstanceSpec) (*corev1.ConfigMap, error) {
	name := podName(fmt.Sprintf("cutover-%s-r%d-%s", labelValue(s.Service), s.Revision, labelValue(d.opts.Owner)))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.opts.Namespace,
		Labels: map[string]string{LabelManaged: "cutover", LabelOwner: labelValue(d.opts.Owner),
			LabelService: labelValue(s.Service), LabelRevision: strconv.Itoa(s.Revision)}},
		Data: map[string]string{"service": s.Service, "revision": strconv.Itoa(s.Revision)}}
	got, err := d.configMaps().Create(ctx, cm, createOpts)
	if apierrors.IsAlreadyExists(err) {
		got, err = d.configMaps().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("revision object %s: %w", name, err)
	}
	return got, nil
}

// deleteNow deletes id's pod without a grace period (a pod that never started).
func (d *Driver) deleteNow(name string) {
	zero := int64(0)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	_ = d.pods().Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	_ = d.waitGone(ctx, name, nil)
}

// canCreatePods asks the apiserver whether this client may create pods in the namespace.
func (d *Driver) canCreatePods(ctx context.Context) error {
	for _, verb := range []string{"create", "delete", "list"} {
		if err := d.allowed(ctx, verb, "pods"); err != nil {
			return err
		}
	}
	return nil
}

var errForbidden = errors.New("forbidden")
