package daemon

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/kube"
	"github.com/cutover/cutover/internal/runtime/process"
)

// defaultDrivers is the process driver under StateDir/run, its records' env sealed by
// sealer, and the Docker driver owning the containers labelled with StateDir. The Docker
// engine is not contacted here: when it does not answer, processes still run and image
// deployments fail at their check.
func defaultDrivers(opts Options, sealer process.Sealer) (*runtime.Mux, error) {
	logger := opts.Logger.With("component", "runtime")
	pd, err := process.New(filepath.Join(opts.StateDir, "run"), logger, process.Options{Sealer: sealer, Crash: opts.Crash})
	if err != nil {
		return nil, fmt.Errorf("process runtime: %w", err)
	}
	owner, err := filepath.Abs(opts.StateDir)
	if err != nil {
		owner = opts.StateDir
	}
	kd, kubeDefault, err := kube.FromEnv(os.Getenv, owner)
	if err != nil {
		return nil, fmt.Errorf("kubernetes runtime: %w", err)
	}
	var mux *runtime.Mux
	if dd, err := docker.New(logger, docker.Options{Owner: owner, Crash: opts.Crash}); err != nil {
		// Only a broken DOCKER_* environment gets here; processes must still run.
		opts.Logger.Warn("docker runtime unavailable", "error", err)
		mux = runtime.NewMux(pd, nil)
	} else {
		mux = runtime.NewMux(pd, dd)
	}
	if kd != nil {
		mux.WithKubernetes(kd, kubeDefault)
	}
	return mux, nil
}
