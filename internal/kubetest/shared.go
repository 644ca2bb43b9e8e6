package kubetest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Shared is one control plane and test node per test process: started by the first test that
// asks for it, stopped by Stop (call it from TestMain after m.Run).
type Shared struct {
	once     sync.Once
	err      error
	cluster  *Cluster
	admin    *kubernetes.Clientset
	stopNode context.CancelFunc
}

// Setup prepares a started cluster before its node runs (say, applies CRDs); images maps the
// image names the node runs to local binaries.
type Setup struct {
	Images func() map[string]string
	Before func(ctx context.Context, c *Cluster) error
}

// Get returns the shared cluster and an admin client, starting them on first use; it skips t
// when the binaries are missing (fails under CI=true) and fails t when they do not start.
func (s *Shared) Get(t *testing.T, setup Setup) (*Cluster, *kubernetes.Clientset) {
	t.Helper()
	s.once.Do(func() { s.err = s.start(setup) })
	if s.err != nil {
		t.Fatalf("control plane: %v", s.err)
	}
	return Need(t, s.cluster), s.admin
}

func (s *Shared) start(setup Setup) error {
	dir, err := os.MkdirTemp("", "cutover-kube-")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, dir)
	if err != nil || c == nil {
		return err
	}
	s.cluster = c
	if s.admin, err = Client(c.Admin); err != nil {
		return err
	}
	if setup.Before != nil {
		if err := setup.Before(ctx, c); err != nil {
			return err
		}
	}
	var images map[string]string
	if setup.Images != nil {
		images = setup.Images()
	}
	nodeCtx, stop := context.WithCancel(context.Background())
	s.stopNode = stop
	return NewKubelet(s.admin, "test-node", dir, images).Run(nodeCtx)
}

// Stop stops the node and the control plane, if they started, and removes their directory.
func (s *Shared) Stop() {
	if s.stopNode != nil {
		s.stopNode()
	}
	if s.cluster != nil {
		s.cluster.Stop()
		os.RemoveAll(s.cluster.Dir)
	}
}

// Namespace creates namespace name (it may exist) with its default service account, which
// the controller manager creates too but only later: pods are refused until it exists.
func Namespace(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	ctx := context.Background()
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: default service account: %v", name, err)
	}
	return name
}
