package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the environment a service's spec declares (its config list)",
	}
	var req api.DeployRequest
	var specFile string
	check := &cobra.Command{
		Use:   "check SERVICE",
		Short: "Check that a deploy would give the app every variable its config declares",
		Long: `Resolve the spec a deploy with the same flags would run (--spec, --set, --env, the
service's secrets) and check its env against the spec's config: every missing or malformed
variable, with what was expected, never its value. Changes nothing. Exits 0 when a deploy
would pass the check, 10 when it would be refused, 2 when the input cannot be checked.`,
		Example: `  cutover config check web --spec cutover.yaml
  cutover config check web --env NODE_ENV=production`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
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
	f.StringArrayVar(&req.Set, "set", nil, "override a spec field, path=value (repeatable)")
	f.StringArrayVar(&req.Env, "env", nil, "set an environment variable, KEY=VALUE, or remove one, KEY- (repeatable)")
	cmd.AddCommand(check)
	return cmd
}
