package docker

import "time"

// restartHistory is what the driver has seen of one container's restarts. Docker keeps only
// a count (reset by a manual start), so the driver timestamps each increase when it sees it.
type restartHistory struct {
	seen  bool
	count int         // Docker's RestartCount when last seen
	at    []time.Time // when restarts were seen, oldest first, within the window
}

// restartObservation is what one inspect says about restarts.
type restartObservation struct {
	count      int
	restarting bool
	startedAt  time.Time // start of the current or last run
	finishedAt time.Time // end of the last run; zero when it never ended
}

// observe folds obs, made at now, into h. A driver that first sees a container already
// restarting after a short run (a daemon restart in the middle of a crash loop) counts its
// earlier restarts as having happened at the last exit, up to the crash-loop threshold, so
// the crash loop is not forgotten.
func (h restartHistory) observe(o Options, obs restartObservation, now time.Time) restartHistory {
	switch {
	case !h.seen:
		h = restartHistory{seen: true, count: obs.count}
		short := !obs.finishedAt.IsZero() && obs.finishedAt.Sub(obs.startedAt) < o.StableAfter
		if obs.restarting && short && now.Sub(obs.finishedAt) < o.CrashLoopWindow {
			for range min(obs.count, o.CrashLoopRestarts) {
				h.at = append(h.at, obs.finishedAt)
			}
		}
	case obs.count < h.count:
		// A manual start or restart set Docker's count back to zero.
		h = restartHistory{seen: true, count: obs.count}
	case obs.count > h.count:
		for range obs.count - h.count {
			h.at = append(h.at, now)
		}
		h.count = obs.count
	}
	kept := h.at[:0:0]
	for _, t := range h.at {
		if now.Sub(t) < o.CrashLoopWindow {
			kept = append(kept, t)
		}
	}
	h.at = kept
	return h
}

// crashLooping reports whether a restarting container with history h is in a crash loop.
func (h restartHistory) crashLooping(o Options) bool {
	return len(h.at) >= o.CrashLoopRestarts
}
