// Package cluster runs cutover inside a Kubernetes cluster, highly available: controller
// replicas (`cutover cluster controller`) elect a leader over a Lease, and only the leader
// drives deployments (the same rollout.Controller and strategies as the single-host daemon)
// from their CutoverDeployment records, resuming each from its recorded state when it takes
// over; every replica serves the control API from the records, so the CLI talks to any of
// them through a Service. Proxy replicas (`cutover cluster proxy`) are stateless: each routes
// by the table the leader publishes and reports its per-revision counts, which the judge
// sums. State lives in the cluster (internal/kubestate).
package cluster
