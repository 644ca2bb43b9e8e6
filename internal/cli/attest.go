package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/attest"
	"github.com/cutover/cutover/internal/spec"
)

func (a *app) attestationKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "attestation-key",
		Short: "Print the key the daemon signs its promotions with, as --trust-environment takes it",
		Long: `Print ENVIRONMENT=ed25519:KEY for the daemon: the public half of the key it signs the
revisions it hands out for promotion with (kept in <state>/attest.key, mode 0600). Give it to
the next environment's daemon as 'cutover serve --trust-environment ENVIRONMENT=ed25519:KEY':
that daemon then deploys 'deploy --from ENVIRONMENT' only when the signature verifies.`,
		Example: "  cutover --context staging attestation-key",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			id, err := c.Identity(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := attest.ParsePublicKey(id.AttestationKey); err != nil {
				return fmt.Errorf("the daemon answered no attestation key (an older version?): %w", err)
			}
			if a.json() {
				return printJSON(a.stdout, id)
			}
			if id.Environment == "" {
				return errors.New("the daemon runs without --environment: its promotions name no environment and cannot be trusted by name")
			}
			fmt.Fprintf(a.stdout, "%s=%s\n", id.Environment, id.AttestationKey)
			return nil
		},
	}
}

// parseTrust reads the --trust-environment values.
func parseTrust(values []string) (map[string]attest.PublicKey, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]attest.PublicKey{}
	for _, v := range values {
		name, key, err := attest.ParseTrust(v)
		if err != nil {
			return nil, usagef("--trust-environment %w", err)
		}
		if !spec.ValidEnvironment(name) {
			return nil, usagef("--trust-environment %q: want 1-63 lowercase letters, digits, '.', '_' or '-' before '='", name)
		}
		out[name] = key
	}
	return out, nil
}
