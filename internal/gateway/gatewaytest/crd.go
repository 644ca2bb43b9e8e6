// Package gatewaytest is test support for the Gateway API mode: it installs the real
// HTTPRoute CRD (copied from sigs.k8s.io/gateway-api, see crd/README.md) into a test control
// plane, and Gateway, a small stand-in for a gateway implementation that routes requests by
// an HTTPRoute's backendRefs and their weights. Nothing here is a production path.
package gatewaytest

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/cutover/cutover/internal/gateway"
)

//go:embed crd/gateway.networking.k8s.io_httproutes.yaml
var httpRouteCRD []byte

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallHTTPRouteCRD creates the HTTPRoute CRD (once: an existing one is kept) and waits
// until HTTPRoutes can be listed.
func InstallHTTPRouteCRD(ctx context.Context, dyn dynamic.Interface) error {
	var obj map[string]any
	if err := yaml.Unmarshal(httpRouteCRD, &obj); err != nil {
		return fmt.Errorf("parse the HTTPRoute CRD: %w", err)
	}
	_, err := dyn.Resource(crds).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the HTTPRoute CRD: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := dyn.Resource(gateway.HTTPRoutes).Namespace("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("HTTPRoutes not served 60s after creating the CRD: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CreateHTTPRoute creates HTTPRoute name in ns, attached to Gateway "edge", with one rule and
// no backends yet, as a cluster's operator would before handing its backends to cutover.
func CreateHTTPRoute(ctx context.Context, dyn dynamic.Interface, ns, name string) error {
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "edge"}},
			"rules":      []any{map[string]any{"matches": []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/"}}}}},
		},
	}}
	if _, err := dyn.Resource(gateway.HTTPRoutes).Namespace(ns).Create(ctx, route, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create httproute %s/%s: %w", ns, name, err)
	}
	return nil
}

// BackendWeights reads the weights of the first rule's backendRefs of HTTPRoute ns/name, by
// Service name.
func BackendWeights(ctx context.Context, dyn dynamic.Interface, ns, name string) (map[string]int64, error) {
	route, err := dyn.Resource(gateway.HTTPRoutes).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	out := map[string]int64{}
	if len(rules) == 0 {
		return out, nil
	}
	refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		name, _ := ref["name"].(string)
		w, ok := ref["weight"].(int64)
		if !ok {
			w = 1 // the Gateway API's default weight
		}
		out[name] = w
	}
	return out, nil
}
