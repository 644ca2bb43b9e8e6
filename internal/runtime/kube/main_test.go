package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/kubetest"
	"github.com/cutover/cutover/internal/testbin"
)

// demoImage is the image name the test node maps to the demo app's binary.
const demoImage = "cutover.test/demoapp:1"

var (
	shared kubetest.Shared
	admin  *kubernetes.Clientset
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

// testCluster starts, once per test process, a control plane and a test node that runs the
// demo app for demoImage; it skips t when the binaries are missing (fails under CI=true).
func testCluster(t *testing.T) *kubetest.Cluster {
	t.Helper()
	c, cs := shared.Get(t, kubetest.Setup{Images: func() map[string]string {
		return map[string]string{demoImage: testbin.Demoapp(t)}
	}})
	admin = cs
	return c
}

// namespace creates a namespace for t with its default service account.
func namespace(t *testing.T, name string) string { return kubetest.Namespace(t, admin, name) }

// ownerOf is a driver owner named after a directory, as a daemon's state directory names it.
func ownerOf(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:])[:16]
}

// newDriver returns a driver over ns for owner; every pod it leaves is deleted at the end of t.
func newDriver(t *testing.T, client kubernetes.Interface, ns, owner string) *Driver {
	t.Helper()
	d, err := New(Options{Client: client, Namespace: ns, Owner: owner, PullNever: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		zero := int64(0)
		sel := fmt.Sprintf("%s=%s", LabelOwner, owner)
		_ = admin.CoreV1().Pods(ns).DeleteCollection(context.Background(),
			metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: sel})
	})
	return d
}
