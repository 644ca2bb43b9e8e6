package kubestate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// DeploymentsGVR names the CutoverDeployment resource (deploy/kubernetes/crd.yaml).
var DeploymentsGVR = schema.GroupVersionResource{Group: "cutover.dev", Version: "v1alpha1", Resource: "cutoverdeployments"}

// Labels of a CutoverDeployment.
const (
	LabelService = "cutover.dev/service"
	LabelActive  = "cutover.dev/active"
)

// maxEvents bounds the events kept in a deployment's status.
const maxEvents = 200

// ErrFenced is returned by a status write that a newer leader (a higher term) has made, or
// that another holder wrote since: the caller is deposed and must stop acting.
var ErrFenced = errors.New("fenced: another controller replica leads now")

// ErrConflict is a precondition that failed: the object changed since it was read.
var ErrConflict = errors.New("the deployment changed since it was read")

// Action is an operator request recorded in a deployment's spec by any API replica.
type Action struct {
	Action string `json:"action"`
	Who    string `json:"who,omitempty"`
}

// Event is one transition of a deployment, kept (the last 200) in its status.
type Event struct {
	Time    time.Time      `json:"time"`
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Record is one deployment as stored in the cluster.
type Record struct {
	Name            string
	ResourceVersion string
	CreatedAt       time.Time

	ID        int64
	Service   string
	Kind      string
	Revision  int
	StartedBy string
	Spec      spec.Service
	Actions   []Action

	// Status: written by the leader only.
	Term           int64
	Holder         string
	ActionsApplied int
	State          rollout.State
	Events         []Event
}

type crSpec struct {
	ID          int64        `json:"id"`
	Service     string       `json:"service"`
	Kind        string       `json:"kind,omitempty"`
	Revision    int          `json:"revision"`
	StartedBy   string       `json:"startedBy,omitempty"`
	ServiceSpec spec.Service `json:"serviceSpec"`
	Actions     []Action     `json:"actions,omitempty"`
}

type crStatus struct {
	Term           int64         `json:"term,omitempty"`
	Holder         string        `json:"holder,omitempty"`
	ActionsApplied int           `json:"actionsApplied,omitempty"`
	State          rollout.State `json:"state"`
	Events         []Event       `json:"events,omitempty"`
}

// Deployments reads and writes CutoverDeployments in one namespace.
type Deployments struct {
	client    dynamic.Interface
	namespace string
}

// NewDeployments returns the store of ns's deployments; it contacts nothing.
func NewDeployments(client dynamic.Interface, namespace string) *Deployments {
	return &Deployments{client: client, namespace: namespace}
}

func (d *Deployments) res() dynamic.ResourceInterface {
	return d.client.Resource(DeploymentsGVR).Namespace(d.namespace)
}

// Ended reports whether the deployment has ended. A record has no status between its creation
// and the status write that follows it: it has not ended then, whatever its zero state says.
func (r *Record) Ended() bool {
	return r.State.Status != "" && !r.State.Status.Active()
}

// Name is the object name of deployment id.
func Name(id int64) string { return "d-" + strconv.FormatInt(id, 10) }

// Create records a new deployment with the next free ID (IDs are taken by creating the
// object: two API replicas cannot take the same one). r.State must be filled in.
func (d *Deployments) Create(ctx context.Context, r *Record) error {
	all, err := d.List(ctx, "")
	if err != nil {
		return err
	}
	next := int64(1)
	for _, o := range all {
		next = max(next, o.ID+1)
	}
	for range 20 {
		r.ID, r.Name = next, Name(next)
		u, err := toObject(r)
		if err != nil {
			return err
		}
		created, err := d.res().Create(ctx, u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			next++
			continue
		}
		if err != nil {
			return fmt.Errorf("create deployment %d: %w", r.ID, err)
		}
		r.ResourceVersion = created.GetResourceVersion()
		r.CreatedAt = created.GetCreationTimestamp().Time
		// The status starts with the state the API decided (approval, strategy, revisions).
		return d.WriteStatus(ctx, r)
	}
	return errors.New("create deployment: no free ID after 20 tries")
}

// Get reads deployment id; errors.Is(err, ErrNotFound) when there is none.
func (d *Deployments) Get(ctx context.Context, id int64) (*Record, error) {
	u, err := d.res().Get(ctx, Name(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("deployment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get deployment %d: %w", id, err)
	}
	return fromObject(u)
}

// ErrNotFound is a deployment that does not exist.
var ErrNotFound = errors.New("not found")

// List returns the deployments, of service when it is not empty, newest first.
func (d *Deployments) List(ctx context.Context, service string) ([]*Record, error) {
	opts := metav1.ListOptions{}
	if service != "" {
		opts.LabelSelector = LabelService + "=" + service
	}
	l, err := d.res().List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	out := make([]*Record, 0, len(l.Items))
	for i := range l.Items {
		r, err := fromObject(&l.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// AddAction appends an operator action to the deployment's spec (any replica may), retried
// on conflicts with the leader's status writes.
func (d *Deployments) AddAction(ctx context.Context, id int64, a Action) error {
	for range 10 {
		r, err := d.Get(ctx, id)
		if err != nil {
			return err
		}
		if r.Ended() {
			return fmt.Errorf("deployment %d has ended (%s)", id, r.State.Status)
		}
		r.Actions = append(r.Actions, a)
		u, err := toObject(r)
		if err != nil {
			return err
		}
		_, err = d.res().Update(ctx, u, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("deployment %d: record %s: %w", id, a.Action, err)
		}
		return nil
	}
	return fmt.Errorf("deployment %d: record %s: %w", id, a.Action, ErrConflict)
}

// WriteStatus writes r's status with r.ResourceVersion as precondition and updates it. A
// conflict is ErrConflict: the caller reads again (Refresh) and decides.
func (d *Deployments) WriteStatus(ctx context.Context, r *Record) error {
	if len(r.Events) > maxEvents {
		r.Events = r.Events[len(r.Events)-maxEvents:]
	}
	out, err := d.write(ctx, r, "write status", d.res().UpdateStatus)
	if err != nil {
		return err
	}
	// The active label follows the status, so a new leader lists only what it must resume.
	if active := activeLabel(r.State); out.GetLabels()[LabelActive] != active {
		return d.relabel(ctx, r)
	}
	return nil
}

// relabel sets the active label after a status write (a label is not part of the status).
func (d *Deployments) relabel(ctx context.Context, r *Record) error {
	update := func(ctx context.Context, u *unstructured.Unstructured, o metav1.UpdateOptions) (*unstructured.Unstructured, error) {
		return d.res().Update(ctx, u, o)
	}
	_, err := d.write(ctx, r, "label", update)
	return err
}

// write sends r through update (the object or its status subresource) with r.ResourceVersion
// as precondition and takes the new version; a conflict is ErrConflict.
func (d *Deployments) write(ctx context.Context, r *Record, what string,
	update func(context.Context, *unstructured.Unstructured, metav1.UpdateOptions) (*unstructured.Unstructured, error)) (*unstructured.Unstructured, error) {
	u, err := toObject(r)
	if err != nil {
		return nil, err
	}
	out, err := update(ctx, u, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, fmt.Errorf("deployment %d: %w", r.ID, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment %d: %s: %w", r.ID, what, err)
	}
	r.ResourceVersion = out.GetResourceVersion()
	return out, nil
}

// Fence checks that the holder of term may write over what is stored now: the stored term
// is not newer, and at an equal term the holder is the same. It returns the stored record.
func (d *Deployments) Fence(ctx context.Context, id, term int64, holder string) (*Record, error) {
	cur, err := d.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Term > term || (cur.Term == term && cur.Holder != "" && cur.Holder != holder) {
		return nil, fmt.Errorf("deployment %d: term %d of %s is stored, ours is %d: %w", id, cur.Term, cur.Holder, term, ErrFenced)
	}
	return cur, nil
}

func activeLabel(st rollout.State) string {
	return strconv.FormatBool(st.Status.Active())
}

func toObject(r *Record) (*unstructured.Unstructured, error) {
	body := map[string]any{
		"apiVersion": DeploymentsGVR.GroupVersion().String(),
		"kind":       "CutoverDeployment",
		"metadata": map[string]any{
			"name":   r.Name,
			"labels": map[string]any{LabelService: r.Service, LabelActive: activeLabel(r.State)},
		},
		"spec": crSpec{ID: r.ID, Service: r.Service, Kind: r.Kind, Revision: r.Revision, StartedBy: r.StartedBy,
			ServiceSpec: r.Spec, Actions: r.Actions},
		"status": crStatus{Term: r.Term, Holder: r.Holder, ActionsApplied: r.ActionsApplied, State: r.State, Events: r.Events},
	}
	if r.ResourceVersion != "" {
		body["metadata"].(map[string]any)["resourceVersion"] = r.ResourceVersion
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode deployment %d: %w", r.ID, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("encode deployment %d: %w", r.ID, err)
	}
	return u, nil
}

func fromObject(u *unstructured.Unstructured) (*Record, error) {
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", u.GetName(), err)
	}
	var obj struct {
		Spec   crSpec   `json:"spec"`
		Status crStatus `json:"status"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", u.GetName(), err)
	}
	s, st := obj.Spec, obj.Status
	return &Record{Name: u.GetName(), ResourceVersion: u.GetResourceVersion(), CreatedAt: u.GetCreationTimestamp().Time,
		ID: s.ID, Service: s.Service, Kind: s.Kind, Revision: s.Revision, StartedBy: s.StartedBy, Spec: s.ServiceSpec,
		Actions: s.Actions, Term: st.Term, Holder: st.Holder, ActionsApplied: st.ActionsApplied, State: st.State, Events: st.Events}, nil
}

// Active returns the deployments that have not ended, oldest first: what a new leader resumes.
func (d *Deployments) Active(ctx context.Context) ([]*Record, error) {
	l, err := d.res().List(ctx, metav1.ListOptions{LabelSelector: LabelActive + "=true"})
	if err != nil {
		return nil, fmt.Errorf("list active deployments: %w", err)
	}
	out := make([]*Record, 0, len(l.Items))
	for i := range l.Items {
		r, err := fromObject(&l.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
