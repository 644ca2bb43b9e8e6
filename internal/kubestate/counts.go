package kubestate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/analysis"
)

// LabelRecord marks cutover's ConfigMaps by what they hold; proxy replicas' reports are
// "proxy-report".
const (
	LabelRecord = "cutover.dev/record"
	recordProxy = "proxy-report"
)

// Report is what one proxy replica exports: the route table generation it applies, when it
// last wrote, and its cumulative counts per service and revision since it started.
type Report struct {
	Replica    string                             `json:"replica"`
	Generation int64                              `json:"generation"`
	At         time.Time                          `json:"at"`
	Counts     map[string]map[int]analysis.Counts `json:"counts"`
}

// Reports reads and writes proxy replicas' reports, one ConfigMap each.
type Reports struct {
	client    kubernetes.Interface
	namespace string
}

// NewReports returns the reports of ns; it contacts nothing.
func NewReports(client kubernetes.Interface, namespace string) *Reports {
	return &Reports{client: client, namespace: namespace}
}

func reportName(replica string) string { return "cutover-proxy-" + replica }

// Write stores one replica's report, replacing its previous one (the replica is its only
// writer, so no precondition is needed).
func (r *Reports) Write(ctx context.Context, rep Report) error {
	raw, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode proxy report: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: reportName(rep.Replica),
		Labels: map[string]string{LabelRecord: recordProxy, "app.kubernetes.io/managed-by": "cutover"}},
		Data: map[string]string{"report": string(raw)}}
	cms := r.client.CoreV1().ConfigMaps(r.namespace)
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write proxy report %s: %w", rep.Replica, err)
	}
	return nil
}

// List returns every replica's last report, live or not.
func (r *Reports) List(ctx context.Context) ([]Report, error) {
	l, err := r.client.CoreV1().ConfigMaps(r.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelRecord + "=" + recordProxy})
	if err != nil {
		return nil, fmt.Errorf("list proxy reports: %w", err)
	}
	out := make([]Report, 0, len(l.Items))
	for _, cm := range l.Items {
		var rep Report
		if err := json.Unmarshal([]byte(cm.Data["report"]), &rep); err != nil {
			return nil, fmt.Errorf("proxy report %s: %w", cm.Name, err)
		}
		out = append(out, rep)
	}
	return out, nil
}

// Sum adds every report's counts of service per revision: a replica's counts are
// cumulative, and a replica that has gone keeps its last report, so the sums only grow.
func Sum(reps []Report, service string) map[int]analysis.Counts {
	out := map[int]analysis.Counts{}
	for _, rep := range reps {
		for rev, c := range rep.Counts[service] {
			out[rev] = addCounts(out[rev], c)
		}
	}
	return out
}

func addCounts(a, b analysis.Counts) analysis.Counts {
	a.Requests += b.Requests
	a.Errors += b.Errors
	a.Latency = addHist(a.Latency, b.Latency)
	for name, e := range b.Endpoints {
		if a.Endpoints == nil {
			a.Endpoints = map[string]analysis.Counts{}
		}
		a.Endpoints[name] = addCounts(a.Endpoints[name], e)
	}
	return a
}

// addHist adds two histograms of the same length; nil adds nothing.
func addHist(a, b []int64) []int64 {
	if b == nil {
		return a
	}
	if a == nil {
		return append([]int64(nil), b...)
	}
	if len(a) != len(b) {
		return a
	}
	for i := range b {
		a[i] += b[i]
	}
	return a
}
