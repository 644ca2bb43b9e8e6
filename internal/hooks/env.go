package hooks

import (
	"os"
	"strconv"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// facts are what a hook learns about the daemon and the new revision beyond the deployment.
type facts struct {
	api, token, ca string // the control API's URL, token and TLS certificate file
	target         string // one serving instance of the new revision, or ""
}

// environ is a hook's environment: the daemon's own, then CUTOVER_SERVICE, CUTOVER_REVISION,
// CUTOVER_DEPLOYMENT, CUTOVER_HOOK, the API's CUTOVER_ADDR, CUTOVER_TOKEN and CUTOVER_CA (so
// that a hook can run `cutover flags enable X`), TARGET_URL and PREVIEW_URL when there are
// such addresses, and last the hook's own env, which overrides the rest.
func environ(dep *rollout.Deployment, name string, h spec.Hook, f facts) []string {
	env := append(os.Environ(),
		"CUTOVER_SERVICE="+dep.Service,
		"CUTOVER_REVISION="+strconv.Itoa(dep.State.To),
		"CUTOVER_DEPLOYMENT="+strconv.FormatInt(dep.ID, 10),
		"CUTOVER_HOOK="+name,
		"CUTOVER_ADDR="+f.api,
		"CUTOVER_TOKEN="+f.token,
		"CUTOVER_CA="+f.ca,
	)
	if f.target != "" {
		env = append(env, "TARGET_URL="+f.target)
	}
	if u := previewURL(dep.Spec); u != "" {
		env = append(env, "PREVIEW_URL="+u)
	}
	for k, v := range h.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// previewURL is the URL of a blue-green deployment's preview listener, or "".
func previewURL(s spec.Service) string {
	if bg := s.Strategy.BlueGreen; bg != nil && bg.PreviewListen != "" {
		return "http://" + spec.DialAddr(bg.PreviewListen)
	}
	return ""
}
