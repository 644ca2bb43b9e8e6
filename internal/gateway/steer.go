package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// HTTPRoutes is the Gateway API's HTTPRoute resource.
var HTTPRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// Labels the Steerer puts on the Services it creates, and reads back.
const (
	LabelManaged  = "app.kubernetes.io/managed-by"
	LabelService  = "cutover.dev/service"
	LabelRevision = "cutover.dev/revision"
	LabelOwner    = "cutover.dev/owner"
	LabelRoute    = "cutover.dev/httproute"
)

// Target is where a service's backends go.
type Target struct {
	Service string
	// Namespace holds the pods and the revisions' Services.
	Namespace string
	// Route and RouteNamespace name the HTTPRoute.
	Route, RouteNamespace string
	// Port is the pods' port, the Services' port and targetPort.
	Port int
	// Owner is the pods' owner label (the driver's), so a Service selects only this daemon's pods.
	Owner string
}

// Steerer writes backends to the cluster: the revisions' Services, then the route.
type Steerer struct {
	core kubernetes.Interface
	dyn  dynamic.Interface
}

// NewSteerer returns a Steerer over the clients; it contacts nothing.
func NewSteerer(core kubernetes.Interface, dyn dynamic.Interface) *Steerer {
	return &Steerer{core: core, dyn: dyn}
}

// Apply makes the route send its traffic to backends: it creates each backend's Service
// when missing, sets every rule's backendRefs, then deletes the Services of revisions the
// route no longer names. A route that does not exist is an error naming it, and nothing
// is created.
func (s *Steerer) Apply(ctx context.Context, t Target, backends []Backend) error {
	routes := s.dyn.Resource(HTTPRoutes).Namespace(t.RouteNamespace)
	if _, err := routes.Get(ctx, t.Route, metav1.GetOptions{}); err != nil {
		return fmt.Errorf("httproute %s/%s: %w", t.RouteNamespace, t.Route, err)
	}
	for _, b := range backends {
		if err := s.ensureService(ctx, t, b); err != nil {
			return err
		}
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		route, err := routes.Get(ctx, t.Route, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := setBackendRefs(route, t, backends); err != nil {
			return err
		}
		_, err = routes.Update(ctx, route, metav1.UpdateOptions{FieldManager: "cutover"})
		return err
	})
	if err != nil {
		return fmt.Errorf("set backends of httproute %s/%s: %w", t.RouteNamespace, t.Route, err)
	}
	return s.deleteStale(ctx, t, backends)
}

// setBackendRefs replaces the backendRefs of every rule of route (one rule when it has none).
func setBackendRefs(route *unstructured.Unstructured, t Target, backends []Backend) error {
	refs := make([]any, 0, len(backends))
	for _, b := range backends {
		ref := map[string]any{"group": "", "kind": "Service", "name": b.Service, "port": int64(t.Port), "weight": int64(b.Weight)}
		if t.Namespace != t.RouteNamespace {
			ref["namespace"] = t.Namespace
		}
		refs = append(refs, ref)
	}
	rules, _, err := unstructured.NestedSlice(route.Object, "spec", "rules")
	if err != nil {
		return fmt.Errorf("httproute %s/%s: spec.rules: %w", t.RouteNamespace, t.Route, err)
	}
	if len(rules) == 0 {
		rules = []any{map[string]any{}}
	}
	for i, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("httproute %s/%s: spec.rules[%d] is not an object", t.RouteNamespace, t.Route, i)
		}
		rule["backendRefs"] = refs
	}
	return unstructured.SetNestedSlice(route.Object, rules, "spec", "rules")
}

func (s *Steerer) ensureService(ctx context.Context, t Target, b Backend) error {
	rev := strconv.Itoa(b.Revision)
	labels := map[string]string{LabelManaged: "cutover", LabelService: t.Service, LabelRevision: rev, LabelRoute: t.Route}
	selector := map[string]string{LabelService: t.Service, LabelRevision: rev}
	if t.Owner != "" {
		selector[LabelOwner] = t.Owner
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: b.Service, Namespace: t.Namespace, Labels: labels},
		Spec: corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{
			Name: "http", Port: int32(t.Port), TargetPort: intstr.FromInt32(int32(t.Port)), Protocol: corev1.ProtocolTCP}}},
	}
	_, err := s.core.CoreV1().Services(t.Namespace).Create(ctx, svc, metav1.CreateOptions{FieldManager: "cutover"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s/%s: %w", t.Namespace, b.Service, err)
	}
	return nil
}

// deleteStale deletes the Services this route's service had for revisions that are not
// among backends.
func (s *Steerer) deleteStale(ctx context.Context, t Target, backends []Backend) error {
	keep := map[string]bool{}
	for _, b := range backends {
		keep[b.Service] = true
	}
	sel := fmt.Sprintf("%s=cutover,%s=%s,%s=%s", LabelManaged, LabelService, t.Service, LabelRoute, t.Route)
	list, err := s.core.CoreV1().Services(t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list services of %s: %w", t.Service, err)
	}
	var errs []error
	for _, svc := range list.Items {
		if keep[svc.Name] {
			continue
		}
		err := s.core.CoreV1().Services(t.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete service %s/%s: %w", t.Namespace, svc.Name, err))
		}
	}
	return errors.Join(errs...)
}
