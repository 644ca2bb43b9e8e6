package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Connect returns the clients of the cluster: kubeconfig when given, else the pod's service
// account (in-cluster); and the namespace: ns when given, else the kubeconfig context's or
// the pod's own.
func Connect(kubeconfig, ns string) (kubernetes.Interface, dynamic.Interface, string, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{})
		if cfg, err = loader.ClientConfig(); err != nil {
			return nil, nil, "", fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
		if ns == "" {
			ns, _, _ = loader.Namespace()
		}
	} else {
		if cfg, err = rest.InClusterConfig(); err != nil {
			return nil, nil, "", fmt.Errorf("not in a cluster and no --kubeconfig: %w", err)
		}
		if ns == "" {
			raw, _ := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
			ns = strings.TrimSpace(string(raw))
		}
	}
	if ns == "" {
		ns = "default"
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	return cs, dyn, ns, nil
}

// DefaultIdentity is the replica's name: $POD_NAME, else the host name, with a random
// suffix so that a process started again never reuses a proxy report's counts.
func DefaultIdentity(suffix bool) string {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	if !suffix {
		return name
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// RunController connects and runs a controller replica serving the API on cfg.Listen.
func RunController(ctx context.Context, kubeconfig string, cfg Config, logger *slog.Logger) error {
	cs, dyn, ns, err := Connect(kubeconfig, cfg.Namespace)
	if err != nil {
		return err
	}
	cfg.Namespace = ns
	c, err := NewController(cs, dyn, cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	logger.Info("controller replica serving", "api", ln.Addr().String(), "namespace", ns, "identity", cfg.Identity)
	return c.Run(ctx, ln)
}

// RunProxy connects and runs a proxy replica.
func RunProxy(ctx context.Context, kubeconfig string, cfg ProxyConfig, logger *slog.Logger) error {
	cs, _, ns, err := Connect(kubeconfig, cfg.Namespace)
	if err != nil {
		return err
	}
	cfg.Namespace = ns
	p, err := NewProxyReplica(cs, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("proxy replica serving", "listen", cfg.Listen, "namespace", ns, "replica", cfg.Replica)
	return p.Run(ctx)
}
