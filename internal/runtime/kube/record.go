package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cutover/cutover/internal/runtime"
)

// logTailBytes bounds the log kept of a stopped pod.
const logTailBytes = 64 << 10

// record is what remains of a stopped instance: its last status and the tail of its log
// (the logs of all its earlier pods, for an instance restarted under the same ID).
type record struct {
	Status runtime.Status
	Log    string
}

func recordName(id string) string { return podName("stopped-" + podName(id)) }

// putRecord writes id's record, appending log to the log already kept.
func (d *Driver) putRecord(ctx context.Context, id string, st runtime.Status, log string) error {
	if old, err := d.getRecord(ctx, id); err == nil {
		log = old.Log + log
	}
	if len(log) > logTailBytes {
		log = log[len(log)-logTailBytes:]
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: recordName(id), Namespace: d.opts.Namespace,
		Labels: map[string]string{LabelManaged: "cutover", LabelOwner: labelValue(d.opts.Owner), LabelRecord: "stopped"}},
		Data: map[string]string{"status": string(b), "log": log}}
	_, err = d.configMaps().Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = d.configMaps().Create(ctx, cm, createOpts)
	}
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	return nil
}

func (d *Driver) getRecord(ctx context.Context, id string) (record, error) {
	cm, err := d.configMaps().Get(ctx, recordName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && !d.owned(cm)) {
		return record{}, fmt.Errorf("instance %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return record{}, fmt.Errorf("record %s: %w", id, err)
	}
	return decodeRecord(cm)
}

func decodeRecord(cm *corev1.ConfigMap) (record, error) {
	var r record
	if err := json.Unmarshal([]byte(cm.Data["status"]), &r.Status); err != nil {
		return r, fmt.Errorf("record %s: %w", cm.Name, err)
	}
	r.Log = cm.Data["log"]
	return r, nil
}

func (d *Driver) listRecords(ctx context.Context) ([]record, error) {
	cms, err := d.configMaps().List(ctx, metav1.ListOptions{LabelSelector: d.mine(map[string]string{LabelRecord: "stopped"})})
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	out := make([]record, 0, len(cms.Items))
	for i := range cms.Items {
		if r, err := decodeRecord(&cms.Items[i]); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// tail is an io.Writer keeping the last n bytes written; safe for concurrent use.
type tail struct {
	mu sync.Mutex
	n  int
	b  []byte
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.n {
		t.b = append([]byte(nil), t.b[len(t.b)-t.n:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
