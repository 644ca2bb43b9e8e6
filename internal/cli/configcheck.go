package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/spec"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the environment a service's spec declares (its config list)",
	}
	var req api.DeployRequest
	var specFile string
	var composeFiles []string
	check := &cobra.Command{
		Use:   "check SERVICE | -f compose.yaml [SERVICE...]",
		Short: "Check that a deploy would give the app every variable its config declares",
		Long: `Resolve the spec a deploy with the same flags would run (--spec, --set, --env, the
service's secrets) and check its env against the spec's config: every missing or malformed
variable, with what was expected, never its value. Changes nothing. Exits 0 when a deploy
would pass the check, 10 when it would be refused, 2 when the input cannot be checked.

With -f, the compose files' required variables come first, here, without a daemon: every
${VAR:?message} and ${VAR?message} without a value is listed with its message and file:line
(deploy -f refuses the same way); then each SERVICE named is imported from the files and
checked by the daemon as above.`,
		Example: `  cutover config check web --spec cutover.yaml
  cutover config check web --env NODE_ENV=production
  cutover config check -f compose.yaml web`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(composeFiles) > 0 {
				return nil
			}
			return exactArgs("SERVICE")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(composeFiles) > 0 {
				if specFile != "" {
					return usagef("--spec and -f cannot be combined")
				}
				return a.configCheckCompose(cmd.Context(), composeFiles, args, req)
			}
			req.Service = args[0]
			if err := checkPairs("--set", req.Set); err != nil {
				return err
			}
			if err := checkEnv(req.Env); err != nil {
				return err
			}
			name := "current spec of " + req.Service
			if specFile != "" {
				data, err := a.readInput(specFile)
				if err != nil {
					return &usageError{err: fmt.Errorf("read spec: %w", err)}
				}
				req.Spec, req.SpecFile, name = string(data), specFile, specFile
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.CheckConfig(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.reportCheck(name, res, ExitFindings)
		},
	}
	f := check.Flags()
	f.StringVar(&specFile, "spec", "", "spec file (- reads standard input); default: the service's current spec")
	f.StringArrayVarP(&composeFiles, "file", "f", nil, "compose files whose required variables to check, and services to import from (repeatable)")
	f.StringArrayVar(&req.Set, "set", nil, "override a spec field, path=value (repeatable)")
	f.StringArrayVar(&req.Env, "env", nil, "set an environment variable, KEY=VALUE, or remove one, KEY- (repeatable)")
	cmd.AddCommand(check)
	return cmd
}

// configCheckCompose checks the compose files' required variables here, then each named
// service's spec as imported from them through the daemon.
func (a *app) configCheckCompose(ctx context.Context, files, services []string, req api.DeployRequest) error {
	name := strings.Join(files, ", ")
	if _, err := compose.LoadStack(ctx, files, compose.Options{Env: environ()}); err != nil {
		var es spec.Errors
		if !errors.As(err, &es) {
			return &usageError{err: err}
		}
		res := api.CheckResult{}
		for _, e := range es {
			res.Errors = append(res.Errors, api.FieldError{Path: e.Path, Line: e.Line, Column: e.Column, Message: e.Message})
		}
		return a.reportCheck(name, res, ExitFindings)
	}
	if len(services) == 0 {
		return a.reportCheck(name, api.CheckResult{Valid: true}, ExitFindings)
	}
	p, err := compose.Load(ctx, files, services, compose.Options{Env: environ()})
	if err != nil {
		return &usageError{err: err}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var failed error
	for _, imp := range p.Services {
		doc, err := spec.Marshal(&imp.Spec)
		if err != nil {
			return err
		}
		r := req
		r.Service, r.Spec, r.SpecFile = imp.Spec.Name, string(doc), name+": "+imp.Spec.Name
		res, err := c.CheckConfig(ctx, r)
		if err != nil {
			return err
		}
		if err := a.reportCheck(r.SpecFile, res, ExitFindings); err != nil {
			if !a.json() {
				fmt.Fprintf(a.stderr, "error: %v\n", err)
			}
			failed = &exitError{code: ExitFindings, silent: true, err: err}
		}
	}
	return failed
}
