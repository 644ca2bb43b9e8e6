package compose

import (
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// mapDeploy maps scale or deploy.replicas to replicas and deploy.update_config to a rolling
// strategy; rollback_config has no counterpart and warns unless it is Docker's default.
// Without update_config the strategy is cutover's default rolling update.
func (m *mapper) mapDeploy() {
	d := m.svc.Deploy
	switch {
	case m.svc.Scale != nil:
		m.doc["replicas"] = *m.svc.Scale
	case d != nil && d.Replicas != nil:
		m.doc["replicas"] = *d.Replicas
	}
	if d == nil {
		return
	}
	if u := d.UpdateConfig; u != nil {
		m.doc["strategy"] = map[string]any{"rolling": m.rolling(u)}
	}
	if r := d.RollbackConfig; r != nil {
		m.warnRollback(r)
	}
}

// rolling maps update_config: parallelism is the batch size (0 is all at once, unset is 1),
// start-first (the default) surges by a batch, stop-first stops a batch first; delay and
// monitor, the larger of them, become min_ready; failure_action rollback or pause is
// on_failure.
func (m *mapper) rolling(u *types.UpdateConfig) map[string]any {
	var batch any = 1
	if u.Parallelism != nil {
		batch = int(min(*u.Parallelism, 1<<31-1))
		if *u.Parallelism == 0 {
			batch = "100%"
		}
	}
	r := map[string]any{"max_surge": batch, "max_unavailable": 0}
	switch u.Order {
	case "", "start-first":
	case "stop-first":
		r["max_surge"], r["max_unavailable"] = 0, batch
	default:
		m.warn("deploy.update_config.order %s is not supported: start-first is used", u.Order)
	}
	if ready := max(time.Duration(u.Delay), time.Duration(u.Monitor)); ready > 0 {
		r["min_ready"] = ready.String()
	}
	switch u.FailureAction {
	case "":
	case "rollback", "pause":
		r["on_failure"] = u.FailureAction
	default:
		m.warn("deploy.update_config.failure_action %s is not supported: a failed update is rolled back", u.FailureAction)
	}
	if u.MaxFailureRatio != 0 {
		m.warn("deploy.update_config.max_failure_ratio %g is ignored: one instance that does not become ready fails the update", u.MaxFailureRatio)
	}
	return r
}

// warnRollback warns about each rollback_config setting that differs from Docker's default
// (parallelism 1, pause, stop-first, no delay, monitor or failure ratio).
func (m *mapper) warnRollback(r *types.UpdateConfig) {
	var set []string
	if r.Parallelism != nil && *r.Parallelism != 1 {
		set = append(set, fmt.Sprintf("parallelism %d", *r.Parallelism))
	}
	if r.Delay != 0 {
		set = append(set, "delay "+time.Duration(r.Delay).String())
	}
	if r.FailureAction != "" && r.FailureAction != "pause" {
		set = append(set, "failure_action "+r.FailureAction)
	}
	if r.Monitor != 0 {
		set = append(set, "monitor "+time.Duration(r.Monitor).String())
	}
	if r.MaxFailureRatio != 0 {
		set = append(set, fmt.Sprintf("max_failure_ratio %g", r.MaxFailureRatio))
	}
	if r.Order != "" && r.Order != "stop-first" {
		set = append(set, "order "+r.Order)
	}
	for _, s := range set {
		m.warn("deploy.rollback_config.%s is ignored: cutover rolls back with the service's own strategy", s)
	}
}
