package cli

import (
	"context"
	"fmt"

	"github.com/cutover/cutover/internal/api"
)

// promoteFlags are deploy's --from and --revision.
type promoteFlags struct {
	from     string
	revision int
}

// promotion fetches from the daemon of context pf.from the revision to promote: one that
// succeeded there (the daemon refuses any other), named after the source's environment.
func (a *app) promotion(ctx context.Context, service string, pf promoteFlags) (api.Promotion, error) {
	if pf.revision < 0 {
		return api.Promotion{}, usagef("--revision %d: want a revision number", pf.revision)
	}
	src, err := a.sourceClient(pf.from)
	if err != nil {
		return api.Promotion{}, err
	}
	p, err := src.Promotion(ctx, service, pf.revision)
	if err != nil {
		return api.Promotion{}, fmt.Errorf("promote %s from %s: %w", service, pf.from, err)
	}
	p.From = p.Environment
	if p.From == "" {
		p.From = pf.from
	}
	if !a.json() {
		fmt.Fprintf(a.stderr, "promoting %s revision %d from %s (spec %s, succeeded %s)\n",
			service, p.Revision, p.From, p.SpecHash, p.SucceededAt.Local().Format("2006-01-02 15:04:05"))
	}
	return p, nil
}
