package proxy

import (
	"math/rand/v2"
	"sync/atomic"
)

// traffic is one immutable snapshot of a service's targets, swapped whole by SetTargets.
type traffic struct {
	groups  []*group // groups with targets
	weights []int    // effective weight of each group
	cum     []int    // cumulative weights
	total   int
	preview *group    // preview revision's group, or nil
	all     []*target // every target once, for SetTargets' bookkeeping

	// Canary routing (see layOut): the groups that overrides force, nil when the service has
	// none of that role, and the groups in sticky order with their bucket cuts.
	canary, stable *group
	stickyOrder    []*group
	stickyCut      []uint32
}

// group is one revision's targets within a traffic snapshot.
type group struct {
	rev     *revStats
	role    string // Group.Role as given
	targets []*target
	rr      atomic.Uint64
}

// p2cThreshold is the group size above which least-requests samples two targets instead of
// scanning all of them.
const p2cThreshold = 8

// ignoreEjection as now makes pickers treat every target as available.
const ignoreEjection = -1

func (tr *traffic) computeWeights() {
	sum := 0
	for _, w := range tr.weights {
		sum += w
	}
	if sum == 0 {
		for i, g := range tr.groups {
			tr.weights[i] = len(g.targets)
		}
	}
	tr.cum = make([]int, len(tr.weights))
	tr.total = 0
	for i, w := range tr.weights {
		tr.total += w
		tr.cum[i] = tr.total
	}
	tr.layOut()
}

// pickGroup draws a group with probability weight/total, or returns nil if there is none.
func (tr *traffic) pickGroup() *group {
	switch len(tr.groups) {
	case 0:
		return nil
	case 1:
		return tr.groups[0]
	}
	n := rand.IntN(tr.total)
	for i, c := range tr.cum {
		if n < c {
			return tr.groups[i]
		}
	}
	return tr.groups[len(tr.groups)-1]
}

// choose picks the group and target for a request: the preview group when c asks for it and
// there is one, otherwise (unless c.previewOnly) the group selectGroup picks. It returns nils
// when there is no target.
func (tr *traffic) choose(c *choice, now int64) (*group, *target) {
	g := tr.preview
	if g == nil || !c.preview {
		if c.previewOnly {
			return nil, nil
		}
		g = tr.selectGroup(c)
		if g == nil {
			return nil, nil
		}
	}
	if t := g.pick(c.rr, now, nil); t != nil {
		return g, t
	}
	// Every target of the group is ejected: any available target of the service beats one
	// that refused connections a moment ago, unless the request asked for this revision.
	if g != tr.preview || !c.preview {
		for _, og := range tr.groups {
			if t := og.pick(c.rr, now, nil); t != nil {
				return og, t
			}
		}
	}
	return g, g.pick(c.rr, ignoreEjection, nil)
}

// retry picks another target than failed: in g first, then in any group (unless the request
// is bound to the preview revision), ejected targets last. It returns nils if there is none.
func (tr *traffic) retry(g *group, failed *target, rr, bound bool, now int64) (*group, *target) {
	for _, at := range []int64{now, ignoreEjection} {
		if t := g.pick(rr, at, failed); t != nil {
			return g, t
		}
		if bound {
			continue
		}
		for _, og := range tr.groups {
			if og == g {
				continue
			}
			if t := og.pick(rr, at, failed); t != nil {
				return og, t
			}
		}
	}
	return nil, nil
}

// pick balances within the group among targets that are not ejected at now and not exclude.
// It returns nil if none qualifies.
func (g *group) pick(rr bool, now int64, exclude *target) *target {
	ts := g.targets
	n := len(ts)
	usable := func(t *target) bool { return t != exclude && !t.ejected(now) }
	if n == 1 {
		if usable(ts[0]) {
			return ts[0]
		}
		return nil
	}
	if rr {
		start := int(g.rr.Add(1) % uint64(n))
		for i := range n {
			if t := ts[(start+i)%n]; usable(t) {
				return t
			}
		}
		return nil
	}
	if n > p2cThreshold {
		// Power of two choices: two distinct random targets, the less busy wins.
		a := rand.IntN(n)
		b := rand.IntN(n - 1)
		if b >= a {
			b++
		}
		ta, tb := ts[a], ts[b]
		if usable(ta) && usable(tb) {
			if tb.inflight.Load() < ta.inflight.Load() {
				return tb
			}
			return ta
		}
	}
	// Scan from a random start so that ties are broken at random.
	start := rand.IntN(n)
	var best *target
	var bestN int64
	for i := range n {
		t := ts[(start+i)%n]
		if !usable(t) {
			continue
		}
		if c := t.inflight.Load(); best == nil || c < bestN {
			best, bestN = t, c
		}
	}
	return best
}
