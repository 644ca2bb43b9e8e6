package daemon

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/gateway"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime/kube"
)

// newGatewaySyncer returns the steering of Gateway API HTTPRoutes (route.gateway) in the
// cluster of CUTOVER_KUBECONFIG, nil when none is configured. Nothing is contacted here.
func newGatewaySyncer(opts Options, f *fleet.Fleet) (*gateway.Syncer, error) {
	env, err := kube.LoadEnv(os.Getenv)
	if env == nil || err != nil {
		return nil, err
	}
	core, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	owner, err := filepath.Abs(opts.StateDir)
	if err != nil {
		owner = opts.StateDir
	}
	return gateway.NewSyncer(f, gateway.NewSteerer(core, dyn), env.Namespace, kube.OwnerOf(owner),
		opts.Logger.With("component", "gateway")), nil
}

// traffic is what the rollout controller moves traffic with: the fleet's proxy, and the
// services' HTTPRoutes when a cluster is configured.
func (d *Daemon) traffic() rollout.Traffic {
	if d.gateway == nil {
		return d.fleet.Traffic()
	}
	return gateway.Traffic{Inner: d.fleet.Traffic(), Syncer: d.gateway}
}
