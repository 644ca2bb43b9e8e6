package kubestate

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/kubetest"
)

var (
	clusterOnce sync.Once
	cluster     *kubetest.Cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
		os.RemoveAll(cluster.Dir)
	}
	os.Exit(code)
}

// clients starts (once) a control plane with the CRD installed and returns clients and a
// fresh namespace for t.
func clients(t *testing.T) (kubernetes.Interface, dynamic.Interface, string) {
	t.Helper()
	clusterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cutover-kubestate-")
		if err != nil {
			clusterErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster, clusterErr = kubetest.Start(ctx, dir)
		if cluster == nil || clusterErr != nil {
			return
		}
		crd, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "crd.yaml"))
		if err != nil {
			clusterErr = err
			return
		}
		clusterErr = kubetest.Apply(ctx, cluster.Admin, crd, "", false)
	})
	if clusterErr != nil {
		t.Fatalf("control plane: %v", clusterErr)
	}
	c := kubetest.Need(t, cluster)
	cs, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	ns := "t-" + time.Now().Format("150405") + "-" + shortName(t.Name())
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return cs, dyn, ns
}

func shortName(s string) string {
	out := []byte{}
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		}
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return string(out)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
