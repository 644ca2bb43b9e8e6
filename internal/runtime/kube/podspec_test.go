package kube

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/cutover/cutover/internal/runtime"
)

// mapper is a driver used only for its pure pod mapping (the fake client is never called).
func mapper(t *testing.T) *Driver {
	d, err := New(Options{Client: fake.NewClientset(), Namespace: "ns", Owner: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPodForMapsSettings(t *testing.T) {
	s := runtime.InstanceSpec{ID: "web-3-ab12", Service: "web", Revision: 3, Image: "app:1", Port: 9000,
		Env: map[string]string{"B": "2", "A": "$(POD_IP)"}, StopGrace: 1500 * time.Millisecond,
		Container: &runtime.ContainerOptions{User: "1000:2000", MemoryBytes: 256 << 20, NanoCPUs: 500_000_000, ReadOnlyRootFS: true}}
	p, err := mapper(t).podFor(s)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Spec.Containers[0]
	if p.Name != "web-3-ab12" || p.Labels[LabelService] != "web" || p.Labels[LabelRevision] != "3" || p.Labels[LabelOwner] != "o1" {
		t.Errorf("pod name/labels: %s %v", p.Name, p.Labels)
	}
	if *p.Spec.TerminationGracePeriodSeconds != 2 {
		t.Errorf("grace %d, want 2 (1.5s rounded up)", *p.Spec.TerminationGracePeriodSeconds)
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "POD_IP,PORT,A,B" {
		t.Errorf("env order %s, want POD_IP,PORT,A,B (POD_IP first so $(POD_IP) expands)", got)
	}
	if c.Ports[0].ContainerPort != 9000 || *c.SecurityContext.RunAsUser != 1000 || *c.SecurityContext.RunAsGroup != 2000 ||
		!*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container: %+v", c)
	}
	if got := c.Resources.Limits.Memory().Value(); got != 256<<20 {
		t.Errorf("memory limit %d", got)
	}
	if got := c.Resources.Limits.Cpu().MilliValue(); got != 500 {
		t.Errorf("cpu limit %dm, want 500m", got)
	}
}

func TestPodForRefusesWhatHasNoPodEquivalent(t *testing.T) {
	d := mapper(t)
	base := runtime.InstanceSpec{ID: "web-1-x", Service: "web", Revision: 1, Image: "app:1"}
	for _, tc := range []struct {
		field string
		edit  func(*runtime.InstanceSpec)
	}{
		{"image", func(s *runtime.InstanceSpec) { s.Image = ""; s.Command = "./web" }},
		{"container.networks", func(s *runtime.InstanceSpec) {
			s.Container = &runtime.ContainerOptions{Networks: []runtime.NetworkAttachment{{Name: "n"}}}
		}},
		{"container.mounts", func(s *runtime.InstanceSpec) {
			s.Container = &runtime.ContainerOptions{Mounts: []runtime.Mount{{Source: "/srv", Target: "/data"}}}
		}},
		{"container.healthcheck", func(s *runtime.InstanceSpec) {
			s.Container = &runtime.ContainerOptions{Healthcheck: &runtime.Healthcheck{Test: []string{"NONE"}}}
		}},
		{"container.user", func(s *runtime.InstanceSpec) { s.Container = &runtime.ContainerOptions{User: "www-data"} }},
	} {
		s := base
		tc.edit(&s)
		_, err := d.podFor(s)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an error naming it", tc.field, err)
		}
	}
}

func TestPodNameIsADNSLabel(t *testing.T) {
	for _, id := range []string{"web-1-ab", "Web_1.AB", strings.Repeat("a", 80)} {
		n := podName(id)
		if len(n) > 63 || !dnsLabel.MatchString(n) {
			t.Errorf("podName(%q) = %q, not a DNS label", id, n)
		}
	}
	if podName("Web_1") == podName("web-1") {
		t.Errorf("two IDs share a pod name")
	}
}
