package kube

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/runtime"
)

// nothingIn fails t when namespace ns holds any pod or ConfigMap made by cutover.
func nothingIn(t *testing.T, ns string) {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: LabelManaged + "=cutover"}
	pods, err := admin.CoreV1().Pods(ns).List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	cms, err := admin.CoreV1().ConfigMaps(ns).List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items)+len(cms.Items) != 0 {
		t.Errorf("namespace %s holds %d pods and %d ConfigMaps after a refused start, want none",
			ns, len(pods.Items), len(cms.Items))
	}
}

func demoSpec(id string) runtime.InstanceSpec {
	return runtime.InstanceSpec{ID: id, Service: "web", Revision: 1, Image: demoImage,
		Env: map[string]string{"LISTEN_HOST": "$(POD_IP)"}}
}

func TestNamespaceWithoutPermission(t *testing.T) {
	c := testCluster(t)
	ns := namespace(t, "forbidden")
	limited, err := kubernetes.NewForConfig(c.Limited)
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, limited, ns, "limited")
	s := demoSpec("web-1-forbidden")
	err = d.Check(t.Context(), s)
	if err == nil || !strings.Contains(err.Error(), "namespace forbidden") || !strings.Contains(err.Error(), "may not create pods") {
		t.Errorf("Check without permission: %v, want an error naming the namespace and the missing right", err)
	}
	if err := d.Start(t.Context(), []runtime.InstanceSpec{s}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("Start without permission: %v, want forbidden", err)
	}
	nothingIn(t, ns)
}

func TestImageTheNodeCannotRun(t *testing.T) {
	testCluster(t)
	ns := namespace(t, "badimage")
	d, err := New(Options{Client: admin, Namespace: ns, Owner: "badimage"}) // may pull: no pre-check
	if err != nil {
		t.Fatal(err)
	}
	s := demoSpec("web-1-badimage")
	s.Image = "registry.invalid/nothing:1"
	err = d.Start(t.Context(), []runtime.InstanceSpec{s})
	if err == nil || !strings.Contains(err.Error(), s.Image) || !strings.Contains(err.Error(), "ErrImagePull") {
		t.Fatalf("Start of an image the node cannot run: %v, want ErrImagePull naming it", err)
	}
	pods, err := admin.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 0 {
		t.Errorf("pods left after the failed start: %d (%v), want none", len(pods.Items), err)
	}
}

func TestUnmappableFieldCreatesNothing(t *testing.T) {
	testCluster(t)
	ns := namespace(t, "unmappable")
	d := newDriver(t, admin, ns, "unmappable")
	ok := demoSpec("web-1-fine")
	bad := demoSpec("web-1-networks")
	bad.Container = &runtime.ContainerOptions{Networks: []runtime.NetworkAttachment{{Name: "backend"}}}
	err := d.Start(t.Context(), []runtime.InstanceSpec{ok, bad})
	if err == nil || !strings.Contains(err.Error(), "container.networks") {
		t.Fatalf("Start with a field that has no pod equivalent: %v, want an error naming it", err)
	}
	nothingIn(t, ns)
}
