package notify

import (
	"strings"

	"github.com/cutover/cutover/internal/api"
)

// Event names, as targets filter them and CloudEvents carry them (type "dev.cutover.<name>").
const (
	EventStarted    = "deployment.started"
	EventWaiting    = "deployment.waiting" // for approval or for a manual promote
	EventPromoted   = "deployment.promoted"
	EventSucceeded  = "deployment.succeeded"
	EventFailed     = "deployment.failed"
	EventRolledBack = "deployment.rolled_back"
	EventAborted    = "deployment.aborted"
	EventCrashLoop  = "instance.crash_loop"
	EventUpgraded   = "daemon.upgraded"
	EventTest       = "notify.test"
)

// Events are the event names a target may choose.
var Events = []string{EventStarted, EventWaiting, EventPromoted, EventSucceeded, EventFailed, EventRolledBack,
	EventAborted, EventCrashLoop, EventUpgraded, EventTest}

// recorded maps the recorded event types to event names.
var recorded = map[string]string{
	"deployment_started":                EventStarted,
	"deployment_approved":               EventPromoted,
	"deployment_promote_requested":      EventPromoted,
	"deployment_promote_full_requested": EventPromoted,
	"deployment_succeeded":              EventSucceeded,
	"deployment_failed":                 EventFailed,
	"deployment_rolled_back":            EventRolledBack,
	"deployment_aborted":                EventAborted,
	"instance_crash_loop":               EventCrashLoop,
	"crash_loop":                        EventCrashLoop,
	"daemon_upgraded":                   EventUpgraded,
	"notify_test":                       EventTest,
}

// Name returns the event name of a recorded event, "" for one that notifies nobody. A
// deployment that starts waiting (for approval, or at a manual pause) is EventWaiting.
func Name(e api.Event) string {
	if e.Type == "deployment_progress" && strings.HasPrefix(e.Message, "awaiting") {
		return EventWaiting
	}
	return recorded[e.Type]
}
