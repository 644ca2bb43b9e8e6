package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/stack"
)

// stackOutcome is how one service of a stack deploy ended, for the report printed at the
// end (text on standard error, or the -o json document on standard output).
type stackOutcome struct {
	Service string `json:"service"`
	Kind    string `json:"kind"`
	// Change is what the plan said: new, changed or unchanged.
	Change string `json:"change,omitempty"`
	// Outcome is "revision 3 deployed", "unchanged", "job completed", "failed", "not started"…
	Outcome    string `json:"outcome"`
	Revision   int    `json:"revision,omitempty"`
	Deployment int64  `json:"deployment,omitempty"`
	Error      string `json:"error,omitempty"`
}

// stackReport is the -o json document of deploy -f.
type stackReport struct {
	Project  string         `json:"project"`
	OK       bool           `json:"ok"`
	Services []stackOutcome `json:"services"`
}

// deploySteps deploys the selected steps of the plan in order, stops at the first that
// fails (the ones after it are not started), and reports every selected service with one
// outcome for the stack: the error of the failed step. With -o json the steps' progress
// goes to standard error and the report, alone, to standard output.
func (a *app) deploySteps(ctx context.Context, run *stackRun, plan *stack.Plan, services []string) error {
	inner := a
	if a.json() {
		cp := *a
		cp.stdout, cp.output = a.stderr, "text"
		inner = &cp
	}
	rep := stackReport{Project: plan.Project, OK: true, Services: []stackOutcome{}}
	var failed error
	for _, st := range plan.Steps {
		if !selected(services, st.Service.Name) {
			continue
		}
		if failed != nil {
			rep.Services = append(rep.Services, stackOutcome{Service: st.Service.Name, Kind: string(st.Kind),
				Change: string(st.Change), Outcome: "not started"})
			continue
		}
		out, err := inner.deployStep(ctx, run, plan.Project, st)
		if err != nil {
			failed, rep.OK = err, false
			out.Outcome, out.Error = "failed", errorText(err)
		}
		rep.Services = append(rep.Services, out)
	}
	if a.json() {
		if err := printJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		a.printReport(rep)
	}
	return failed
}

// printReport writes each service's outcome on standard error (standard output keeps each
// step as it happened).
func (a *app) printReport(rep stackReport) {
	fmt.Fprintf(a.stderr, "stack %s:\n", rep.Project)
	for _, s := range rep.Services {
		switch s.Outcome {
		case "not started":
			fmt.Fprintf(a.stderr, "  %s: not started (a service before it failed)\n", s.Service)
		default:
			fmt.Fprintf(a.stderr, "  %s: %s\n", s.Service, s.Outcome)
		}
	}
}

// errorText is an error's message; a silent exit error's too (its text was printed as the
// deployment's outcome).
func errorText(err error) string {
	var ee *exitError
	if errors.As(err, &ee) && ee.err != nil {
		return ee.err.Error()
	}
	return err.Error()
}
