package kubestate

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/spec"
)

// RoutesName is the ConfigMap holding the route table the leader publishes.
const RoutesName = "cutover-routes"

// Table is what every proxy replica routes by: each service's route and its revisions'
// targets and weights. Generation rises with every change; each proxy reports the one it
// applied, and the leader stops an instance only once every live proxy has applied a table
// without it.
type Table struct {
	Generation int64                   `json:"generation"`
	Term       int64                   `json:"term"`
	Services   map[string]ServiceRoute `json:"services"`
}

// ServiceRoute is one service in the table.
type ServiceRoute struct {
	// Spec is the spec of the service's serving revision: its route section and strategy's
	// routing options are what the proxy reads.
	Spec    spec.Service `json:"spec"`
	Groups  []Group      `json:"groups"`
	Preview int          `json:"preview,omitempty"`
}

// Group is one revision's targets and weight.
type Group struct {
	Revision int      `json:"revision"`
	Weight   int      `json:"weight"`
	Role     string   `json:"role,omitempty"`
	Targets  []Target `json:"targets"`
}

// Target is one pod.
type Target struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// Routes reads and writes the route table.
type Routes struct {
	client    kubernetes.Interface
	namespace string
}

// NewRoutes returns the route table of ns; it contacts nothing.
func NewRoutes(client kubernetes.Interface, namespace string) *Routes {
	return &Routes{client: client, namespace: namespace}
}

// Read returns the table and the ConfigMap's resourceVersion ("" when there is none yet).
func (r *Routes) Read(ctx context.Context) (Table, string, error) {
	cm, err := r.client.CoreV1().ConfigMaps(r.namespace).Get(ctx, RoutesName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Table{Services: map[string]ServiceRoute{}}, "", nil
	}
	if err != nil {
		return Table{}, "", fmt.Errorf("read route table: %w", err)
	}
	t, err := decodeTable(cm)
	return t, cm.ResourceVersion, err
}

func decodeTable(cm *corev1.ConfigMap) (Table, error) {
	var t Table
	if err := json.Unmarshal([]byte(cm.Data["table"]), &t); err != nil {
		return Table{}, fmt.Errorf("route table %s: %w", cm.Name, err)
	}
	if t.Services == nil {
		t.Services = map[string]ServiceRoute{}
	}
	return t, nil
}

// Write stores t if the ConfigMap still has resourceVersion rv ("" creates it) and no newer
// term wrote it; it returns the new resourceVersion.
func (r *Routes) Write(ctx context.Context, t Table, rv string) (string, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode route table: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RoutesName, ResourceVersion: rv,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "cutover"}}, Data: map[string]string{"table": string(raw)}}
	cms := r.client.CoreV1().ConfigMaps(r.namespace)
	var out *corev1.ConfigMap
	if rv == "" {
		out, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	} else {
		out, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("route table: %w", ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("write route table: %w", err)
	}
	return out.ResourceVersion, nil
}
