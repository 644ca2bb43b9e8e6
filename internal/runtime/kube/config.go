package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables that turn the daemon's Kubernetes runtime on.
const (
	EnvKubeconfig = "CUTOVER_KUBECONFIG"     // path of a kubeconfig file: the cluster to use
	EnvNamespace  = "CUTOVER_KUBE_NAMESPACE" // namespace of the pods (default: the kubeconfig's, else "default")
	EnvDefault    = "CUTOVER_KUBE_DEFAULT"   // "1": image specs without run.runtime go to Kubernetes
)

// FromEnv returns the driver the environment configures, or nil when CUTOVER_KUBECONFIG is
// unset; asDefault reports CUTOVER_KUBE_DEFAULT=1. owner identifies the daemon (its state
// directory). Nothing is contacted here.
func FromEnv(getenv func(string) string, owner string) (d *Driver, asDefault bool, err error) {
	path := getenv(EnvKubeconfig)
	if path == "" {
		return nil, false, nil
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", EnvKubeconfig, path, err)
	}
	ns := getenv(EnvNamespace)
	if ns == "" {
		if ns, _, err = loader.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", EnvKubeconfig, path, err)
	}
	sum := sha256.Sum256([]byte(owner))
	d, err = New(Options{Client: cs, Namespace: ns, Owner: hex.EncodeToString(sum[:])[:16]})
	return d, getenv(EnvDefault) == "1", err
}
