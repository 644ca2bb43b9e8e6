package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
)

// ClusterOptions configure `cutover cluster controller` and `cutover cluster proxy`.
type ClusterOptions struct {
	// Role is "controller" or "proxy".
	Role string
	// Kubeconfig is a kubeconfig file ("": the pod's service account); Namespace the
	// namespace ("": the kubeconfig's or the pod's).
	Kubeconfig, Namespace string
	// Identity names the replica ("": $POD_NAME, else the host name).
	Identity string
	// Listen: the control API's address (controller) or the traffic address (proxy).
	Listen string
	// TokenFile holds the control API's bearer token (controller).
	TokenFile string
	// LeaseDuration, RenewDeadline, RetryPeriod time the leader election (controller).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// ShutdownDelay: how long a proxy keeps serving after SIGTERM (proxy).
	ShutdownDelay time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
}

func (a *app) clusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run cutover inside a Kubernetes cluster: controller or proxy replicas",
		Long: `Run one replica of cutover inside a Kubernetes cluster (deploy/kubernetes has the
manifests). Controller replicas elect a leader over a Lease; the leader drives deployments,
recorded as CutoverDeployment objects, and every replica serves the control API, so the CLI
talks to them through their Service as to a local daemon (--addr, --token). Proxy replicas
route by the table the leader publishes and report their per-revision counts, which the
canary judge sums. See docs/kubernetes.md.`,
	}
	cmd.AddCommand(a.clusterRoleCmd("controller"), a.clusterRoleCmd("proxy"))
	return cmd
}

func (a *app) clusterRoleCmd(role string) *cobra.Command {
	o := ClusterOptions{Role: role}
	short := "Run a controller replica: leader election, deployments, control API"
	listen := "0.0.0.0:7070"
	if role == "proxy" {
		short, listen = "Run a proxy replica: routes by the leader's table, reports its counts", "0.0.0.0:8080"
	}
	cmd := &cobra.Command{
		Use:   role,
		Short: short,
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.LogLevel {
			case "debug", "info", "warn", "error":
			default:
				return usagef("--log-level %q: want debug, info, warn or error", o.LogLevel)
			}
			if role == "controller" && o.TokenFile == "" {
				return usagef("--token-file: required (the control API's bearer token)")
			}
			if o.ShutdownDelay < 0 {
				return usagef("--shutdown-delay %s: want 0 or more", o.ShutdownDelay)
			}
			if role == "controller" && o.RenewDeadline >= o.LeaseDuration {
				return usagef("--renew-deadline %s: want less than --lease-duration %s", o.RenewDeadline, o.LeaseDuration)
			}
			if a.cmds.Cluster == nil {
				return errors.New("cluster: not available in this build")
			}
			return a.cmds.Cluster(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: the pod's service account)")
	f.StringVar(&o.Namespace, "namespace", "", "namespace (default: the kubeconfig context's, else the pod's)")
	f.StringVar(&o.Identity, "identity", "", "this replica's name (default $POD_NAME, else the host name)")
	f.StringVar(&o.Listen, "listen", listen, "address to serve on")
	f.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	if role == "proxy" {
		f.DurationVar(&o.ShutdownDelay, "shutdown-delay", 0,
			"after SIGTERM, keep serving this long before closing and draining (the time the Service takes to drop the pod)")
	}
	if role == "controller" {
		f.StringVar(&o.TokenFile, "token-file", "", "file holding the control API's bearer token (a mounted Secret)")
		f.DurationVar(&o.LeaseDuration, "lease-duration", 15*time.Second, "how long a leader that stopped renewing keeps the lease")
		f.DurationVar(&o.RenewDeadline, "renew-deadline", 10*time.Second, "how long the leader acts without a successful renewal")
		f.DurationVar(&o.RetryPeriod, "retry-period", 2*time.Second, "wait between tries to take or renew the lease")
	}
	return cmd
}
