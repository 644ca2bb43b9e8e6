package spec

import (
	"net"
	"strings"
)

// validateStrategy checks that exactly one strategy is set, that Type names it, and its fields.
func validateStrategy(errs *Errors, st *Strategy, listen string) {
	types := strategyTypes(st)
	switch {
	case len(types) == 0:
		errs.add("strategy", "one of rolling, blue_green, recreate, canary is required")
	case len(types) > 1:
		errs.add("strategy", "set only one of rolling, blue_green, recreate, canary (found %s)", strings.Join(types, " and "))
	case st.Type != "" && st.Type != types[0]:
		errs.add("strategy", "type %q does not match the strategy set (%s)", st.Type, types[0])
	}
	if r := st.Rolling; r != nil {
		validateRolling(errs, r)
	}
	if bg := st.BlueGreen; bg != nil {
		validateBlueGreen(errs, bg, listen)
	}
	if r := st.Recreate; r != nil {
		positive(errs, r.ProgressDeadline, "strategy.recreate.progress_deadline")
	}
	if c := st.Canary; c != nil {
		validateCanary(errs, c)
	}
}

func validateRolling(errs *Errors, r *Rolling) {
	const path = "strategy.rolling"
	surgeOK := checkIntOrPercent(errs, r.MaxSurge, path+".max_surge")
	unavailOK := checkIntOrPercent(errs, r.MaxUnavailable, path+".max_unavailable")
	if surgeOK && unavailOK && r.MaxSurge.Value == 0 && r.MaxUnavailable.Value == 0 {
		errs.add(path+".max_surge", "max_surge and max_unavailable cannot both be zero: no instance could ever be replaced")
	}
	if r.OnFailure != OnFailureRollback && r.OnFailure != OnFailurePause {
		errs.add(path+".on_failure", "must be %s or %s, not %q", OnFailureRollback, OnFailurePause, r.OnFailure)
	}
	checkDeadline(errs, r.MinReady, r.ProgressDeadline, path)
}

// checkIntOrPercent refuses negative counts and percentages above 100; it reports whether p is valid.
func checkIntOrPercent(errs *Errors, p IntOrPercent, path string) bool {
	switch {
	case p.Value < 0:
		errs.add(path, "must not be negative")
	case p.Percent && p.Value > 100:
		errs.add(path, "must be at most 100%%")
	default:
		return true
	}
	return false
}

// checkDeadline requires 0 <= min_ready < progress_deadline, progress_deadline > 0.
func checkDeadline(errs *Errors, minReady, deadline Duration, path string) {
	positive(errs, deadline, path+".progress_deadline")
	switch {
	case minReady < 0:
		errs.add(path+".min_ready", "must not be negative")
	case deadline > 0 && minReady >= deadline:
		errs.add(path+".min_ready", "must be less than progress_deadline (%s)", deadline)
	}
}

func validateBlueGreen(errs *Errors, bg *BlueGreen, listen string) {
	const path = "strategy.blue_green"
	if bg.PreviewListen != "" {
		if err := checkAddress(bg.PreviewListen); err != nil {
			errs.add(path+".preview_listen", "%s", err)
		} else if sameAddress(bg.PreviewListen, listen) {
			errs.add(path+".preview_listen", "must differ from route.listen (%s)", listen)
		}
	}
	if bg.PreviewHeader != "" && !headerRE.MatchString(bg.PreviewHeader) {
		errs.add(path+".preview_header", "%q is not a valid HTTP header name", bg.PreviewHeader)
	}
	if bg.ScaleDownDelay < 0 {
		errs.add(path+".scale_down_delay", "must not be negative")
	}
	checkDeadline(errs, bg.MinReady, bg.ProgressDeadline, path)
}

// sameAddress reports whether two listen addresses would collide: same port, and the same host
// or one of them listening on every address.
func sameAddress(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	if pa != pb {
		return false
	}
	everywhere := func(h string) bool {
		ip := net.ParseIP(h)
		return h == "" || ip != nil && ip.IsUnspecified()
	}
	return ha == hb || everywhere(ha) || everywhere(hb)
}
