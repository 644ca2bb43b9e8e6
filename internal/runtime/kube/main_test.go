package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/kubetest"
	"github.com/cutover/cutover/internal/testbin"
)

// demoImage is the image name the test node maps to the demo app's binary.
const demoImage = "cutover.test/demoapp:1"

var (
	clusterOnce sync.Once
	cluster     *kubetest.Cluster
	clusterErr  error
	admin       *kubernetes.Clientset
	stopNode    context.CancelFunc
)

func TestMain(m *testing.M) {
	code := m.Run()
	if stopNode != nil {
		stopNode()
	}
	if cluster != nil {
		cluster.Stop()
		os.RemoveAll(cluster.Dir)
	}
	os.Exit(code)
}

// testCluster starts, once per test process, a control plane and a test node that runs the
// demo app for demoImage; it skips t when the binaries are missing (fails under CI=true).
func testCluster(t *testing.T) *kubetest.Cluster {
	t.Helper()
	clusterOnce.Do(func() { clusterErr = startCluster(t) })
	if clusterErr != nil {
		t.Fatalf("control plane: %v", clusterErr)
	}
	return kubetest.Need(t, cluster)
}

func startCluster(t *testing.T) error {
	dir, err := os.MkdirTemp("", "cutover-kube-")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := kubetest.Start(ctx, dir)
	if err != nil || c == nil {
		return err
	}
	cluster = c
	if admin, err = kubetest.Client(c.Admin); err != nil {
		return err
	}
	nodeCtx, stop := context.WithCancel(context.Background())
	stopNode = stop
	node := kubetest.NewKubelet(admin, "test-node", dir, map[string]string{demoImage: testbin.Demoapp(t)})
	return node.Run(nodeCtx)
}

// namespace creates a namespace for t with its default service account.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ctx := t.Context()
	_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	// The controller manager creates it too; pods are refused until it exists.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := admin.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: default service account: %v", name, err)
	}
	return name
}

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
