package cli

import (
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/api"
)

// Exit codes of the cutover command. Scripts and CI branch on them; keep them stable.
const (
	ExitOK           = 0 // success; with --wait, the deployment succeeded
	ExitError        = 1 // any other error: daemon unreachable, internal error, interrupted
	ExitUsage        = 2 // bad command line or invalid input (the API answered 400)
	ExitFailed       = 3 // the deployment failed and was left as is
	ExitRolledBack   = 4 // the deployment failed and was rolled back
	ExitAborted      = 5 // the deployment was aborted by an operator
	ExitTimeout      = 6 // --timeout passed while waiting; the deployment goes on
	ExitConflict     = 7 // the API answered 409: a deployment is already running, or an address or route is taken
	ExitNotFound     = 8 // the API answered 404 (no such service, revision or deployment)
	ExitUnauthorized = 9 // the API refused the token (401) or its role (403)
	// ExitFindings: a check ran and found errors (cutover check, config check, migrate
	// lint), as opposed to ExitUsage, where the input could not be checked at all.
	ExitFindings = 10
)

// exitCodesHelp documents the exit codes in --help.
const exitCodesHelp = `Exit codes:
  0  ok (with --wait: the deployment succeeded)
  1  error (daemon unreachable, internal error, interrupted)
  2  usage error or invalid input (bad flags, invalid spec)
  3  deployment failed
  4  deployment rolled back
  5  deployment aborted
  6  timed out waiting (--timeout); the deployment continues
  7  conflict (another deployment is active, or a route's address or path is taken)
  8  not found
  9  unauthorized (wrong or missing token) or forbidden (the token's role does not allow it)
  10 a check found errors (check, config check, migrate lint); 2 means it could not check`

// exitError ends the command with a chosen code. A silent one has already told the user.
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake on the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitCode chooses the exit code for err.
func exitCode(err error) int {
	var ee *exitError
	var ue *usageError
	var ve *api.ValidationError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.As(err, &ve), errors.Is(err, api.ErrInvalid):
		return ExitUsage
	case errors.Is(err, api.ErrUnauthorized), errors.Is(err, api.ErrForbidden):
		return ExitUnauthorized
	case errors.Is(err, api.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, api.ErrConflict):
		return ExitConflict
	}
	return ExitError
}

// outcomeCode is the exit code for a final deployment status.
func outcomeCode(status string) int {
	switch status {
	case "succeeded":
		return ExitOK
	case "failed":
		return ExitFailed
	case "rolled_back":
		return ExitRolledBack
	case "aborted":
		return ExitAborted
	}
	return ExitError
}
