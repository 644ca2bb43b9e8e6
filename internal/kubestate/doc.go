// Package kubestate is cutover's state of record inside a Kubernetes cluster, for the
// controller and proxy replicas that run there (SQLite stays the single-host store):
// deployments as CutoverDeployment custom resources (spec from the API, status from the
// leading controller, written with resourceVersion preconditions and a fencing term), the
// controller's leader election over a coordination.k8s.io Lease, the route table the leader
// publishes to the proxies, and each proxy replica's per-revision counts, which the judge sums.
package kubestate
