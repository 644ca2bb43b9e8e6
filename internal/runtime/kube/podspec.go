package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cutover/cutover/internal/runtime"
)

var createOpts = metav1.CreateOptions{}

// podsFor maps every spec, or returns the first error.
func (d *Driver) podsFor(specs []runtime.InstanceSpec) ([]*corev1.Pod, error) {
	out := make([]*corev1.Pod, 0, len(specs))
	for _, s := range specs {
		p, err := d.podFor(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// podFor maps one instance to a pod, or says which field has no pod equivalent.
func (d *Driver) podFor(s runtime.InstanceSpec) (*corev1.Pod, error) {
	if s.ID == "" {
		return nil, errors.New("instance: id is required")
	}
	if s.Image == "" {
		return nil, fmt.Errorf("instance %s: image is required on the kubernetes runtime (a pod runs an image, not a host command)", s.ID)
	}
	c, err := d.container(s)
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", s.ID, err)
	}
	grace := int64(max(1, int((s.StopGrace+time.Second-1)/time.Second)))
	if s.StopGrace == 0 {
		grace = 30
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName(s.ID), Namespace: d.opts.Namespace,
			Labels: d.labels(s), Annotations: map[string]string{AnnotationID: s.ID}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c}, RestartPolicy: corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: &grace, ServiceAccountName: d.opts.ServiceAccount,
			EnableServiceLinks: new(bool)},
	}
	return p, nil
}

func (d *Driver) labels(s runtime.InstanceSpec) map[string]string {
	return map[string]string{LabelManaged: "cutover", LabelOwner: labelValue(d.opts.Owner),
		LabelService: labelValue(s.Service), LabelRevision: strconv.Itoa(s.Revision),
		LabelInstance: podName(s.ID)}
}

func (d *Driver) container(s runtime.InstanceSpec) (corev1.Container, error) {
	port := s.Port
	if port == 0 {
		port = d.opts.DefaultPort
	}
	c := corev1.Container{Name: "app", Image: s.Image, WorkingDir: s.Dir,
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
		Env:   podEnv(s.Env, port)}
	if d.opts.PullNever {
		c.ImagePullPolicy = corev1.PullNever
	}
	if s.Command != "" {
		c.Command = []string{s.Command}
	}
	c.Args = slices.Clone(s.Args)
	if err := applyOptions(&c, s.Container); err != nil {
		return c, err
	}
	return c, nil
}

// podEnv is POD_IP (from the pod's status), PORT, then the spec's variables in name order;
// a value may refer to $(POD_IP).
func podEnv(env map[string]string, port int) []corev1.EnvVar {
	out := []corev1.EnvVar{
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "PORT", Value: strconv.Itoa(port)},
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if k != "PORT" && k != "POD_IP" {
			out = append(out, corev1.EnvVar{Name: k, Value: env[k]})
		}
	}
	return out
}

// applyOptions maps container settings to the container; what has no pod equivalent is an error.
func applyOptions(c *corev1.Container, o *runtime.ContainerOptions) error {
	if o == nil {
		return nil
	}
	if len(o.Networks) > 0 {
		return errors.New("container.networks: no pod equivalent (pods share the cluster network; use Services)")
	}
	if len(o.Mounts) > 0 {
		return errors.New("container.mounts: no pod equivalent here (volumes and host paths are not mapped; use a PersistentVolumeClaim outside cutover)")
	}
	if o.Healthcheck != nil {
		return errors.New("container.healthcheck: no pod equivalent (use the service's readiness probe, which becomes the pod's readinessProbe)")
	}
	sc := &corev1.SecurityContext{}
	if o.User != "" {
		uid, gid, err := numericUser(o.User)
		if err != nil {
			return err
		}
		sc.RunAsUser, sc.RunAsGroup = uid, gid
	}
	if o.ReadOnlyRootFS {
		sc.ReadOnlyRootFilesystem = &o.ReadOnlyRootFS
	}
	if *sc != (corev1.SecurityContext{}) {
		c.SecurityContext = sc
	}
	limits := corev1.ResourceList{}
	if o.MemoryBytes > 0 {
		limits[corev1.ResourceMemory] = *resource.NewQuantity(o.MemoryBytes, resource.BinarySI)
	}
	if o.NanoCPUs > 0 {
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(max(1, o.NanoCPUs/1_000_000), resource.DecimalSI)
	}
	if len(limits) > 0 {
		c.Resources = corev1.ResourceRequirements{Limits: limits, Requests: limits}
	}
	return nil
}

// numericUser parses "uid[:gid]"; a pod's securityContext takes numbers only.
func numericUser(u string) (*int64, *int64, error) {
	name, group, hasGroup := strings.Cut(u, ":")
	uid, err := strconv.ParseInt(name, 10, 64)
	if err != nil || uid < 0 {
		return nil, nil, fmt.Errorf("container.user %q: a pod's runAsUser must be a number", u)
	}
	if !hasGroup {
		return &uid, nil, nil
	}
	gid, err := strconv.ParseInt(group, 10, 64)
	if err != nil || gid < 0 {
		return nil, nil, fmt.Errorf("container.user %q: a pod's runAsGroup must be a number", u)
	}
	return &uid, &gid, nil
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// podName is id when it is a valid DNS label, else a cleaned id with a hash of the original.
func podName(id string) string {
	if len(id) <= 63 && dnsLabel.MatchString(id) {
		return id
	}
	clean := strings.Trim(regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(strings.ToLower(id), "-"), "-")
	sum := sha256.Sum256([]byte(id))
	return strings.Trim(clean[:min(len(clean), 50)], "-") + "-" + hex.EncodeToString(sum[:])[:10]
}

// labelValue is s when it is a valid label value, else a short hash of it.
func labelValue(s string) string {
	if len(s) <= 63 && regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]?$`).MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h-" + hex.EncodeToString(sum[:])[:20]
}

// freshCopy is p as it would be created again: same name, labels and spec, no server fields.
func freshCopy(p *corev1.Pod) *corev1.Pod {
	spec := *p.Spec.DeepCopy()
	spec.NodeName = ""
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace,
		Labels: maps.Clone(p.Labels), Annotations: maps.Clone(p.Annotations),
		OwnerReferences: slices.Clone(p.OwnerReferences)}, Spec: spec}
}
