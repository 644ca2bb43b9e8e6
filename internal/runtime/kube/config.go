package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables that turn the daemon's Kubernetes runtime on.
const (
	EnvKubeconfig = "CUTOVER_KUBECONFIG"     // path of a kubeconfig file: the cluster to use
	EnvNamespace  = "CUTOVER_KUBE_NAMESPACE" // namespace of the pods (default: the kubeconfig's, else "default")
	EnvDefault    = "CUTOVER_KUBE_DEFAULT"   // "1": image specs without run.runtime go to Kubernetes
)

// Env is the cluster the environment configures.
type Env struct {
	Config    *rest.Config
	Namespace string
	// Default reports CUTOVER_KUBE_DEFAULT=1.
	Default bool
}

// LoadEnv reads the environment's cluster, nil when CUTOVER_KUBECONFIG is unset. Nothing is
// contacted here.
func LoadEnv(getenv func(string) string) (*Env, error) {
	path := getenv(EnvKubeconfig)
	if path == "" {
		return nil, nil
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", EnvKubeconfig, path, err)
	}
	ns := getenv(EnvNamespace)
	if ns == "" {
		if ns, _, err = loader.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	return &Env{Config: cfg, Namespace: ns, Default: getenv(EnvDefault) == "1"}, nil
}

// OwnerOf is the owner label of the objects of a daemon identified by id (its state directory).
func OwnerOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])[:16]
}

// FromEnv returns the driver the environment configures, or nil when CUTOVER_KUBECONFIG is
// unset; asDefault reports CUTOVER_KUBE_DEFAULT=1. owner identifies the daemon (its state
// directory). Nothing is contacted here.
func FromEnv(getenv func(string) string, owner string) (d *Driver, asDefault bool, err error) {
	env, err := LoadEnv(getenv)
	if env == nil || err != nil {
		return nil, false, err
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", EnvKubeconfig, err)
	}
	d, err = New(Options{Client: cs, Namespace: env.Namespace, Owner: OwnerOf(owner)})
	return d, env.Default, err
}
