// Package flagapi adapts the flag service (package flags) to the control API's
// api.FlagsBackend: it converts flags' types to the API's, names the author of a change and
// maps the flag service's errors onto the API's. The rules are in package flags.
package flagapi

import (
	"context"
	"errors"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// Backend adapts the flag service to api.FlagsBackend: it converts flags' types to the
// API's, names the author of a change and maps errors. The rules are in package flags.
type Backend struct{ s *flags.Service }

// New returns s as the control API's api.FlagsBackend.
func New(s *flags.Service) Backend { return Backend{s} }

var _ api.FlagsBackend = Backend{}

// Flags implements api.FlagsBackend.
func (a Backend) Flags(ctx context.Context) ([]api.FlagStatus, error) {
	list, err := a.s.Flags()
	if err != nil {
		return nil, err
	}
	out := make([]api.FlagStatus, len(list))
	for i, st := range list {
		out[i] = api.FlagStatus(st)
	}
	return out, nil
}

// Flag implements api.FlagsBackend.
func (a Backend) Flag(ctx context.Context, key string) (api.FlagStatus, error) {
	return status(a.s.Flag(key))
}

// PutFlag implements api.FlagsBackend.
func (a Backend) PutFlag(ctx context.Context, who string, f flags.Flag) (api.FlagStatus, error) {
	return status(a.s.PutFlag(ctx, actor(who), f))
}

// PutFlagYAML implements api.FlagsBackend.
func (a Backend) PutFlagYAML(ctx context.Context, who, key string, data []byte, file string) (api.FlagStatus, error) {
	st, err := a.s.PutFlagYAML(ctx, actor(who), key, data)
	return api.FlagStatus(st), flagErr(err, file)
}

// DeleteFlag implements api.FlagsBackend.
func (a Backend) DeleteFlag(ctx context.Context, who, key string) error {
	return flagErr(a.s.DeleteFlag(ctx, actor(who), key), "")
}

// SetFlagEnabled implements api.FlagsBackend.
func (a Backend) SetFlagEnabled(ctx context.Context, who, key string, enabled bool) (api.FlagStatus, error) {
	return status(a.s.SetEnabled(ctx, actor(who), key, enabled))
}

// SetFlagRollout implements api.FlagsBackend.
func (a Backend) SetFlagRollout(ctx context.Context, who, key string, req api.FlagRolloutRequest) (api.FlagStatus, error) {
	return status(a.s.SetRollout(ctx, actor(who), key, flags.RolloutRequest(req)))
}

// FlagHistory implements api.FlagsBackend.
func (a Backend) FlagHistory(ctx context.Context, q api.FlagHistoryQuery) ([]flags.Record, error) {
	recs, err := a.s.History(ctx, q.Kind, q.Key, q.Limit)
	return recs, flagErr(err, "")
}

// ExportFlags implements api.FlagsBackend.
func (a Backend) ExportFlags(ctx context.Context) ([]byte, error) {
	return a.s.Export()
}

// ImportFlags implements api.FlagsBackend.
func (a Backend) ImportFlags(ctx context.Context, who string, data []byte, file string, opts flags.ImportOptions) (flags.ImportResult, error) {
	res, err := a.s.Import(ctx, actor(who), data, opts)
	return res, flagErr(err, file)
}

// CreateSDKToken implements api.FlagsBackend.
func (a Backend) CreateSDKToken(ctx context.Context, who, name string) (api.SDKToken, error) {
	t, err := a.s.Tokens().Create(ctx, actor(who), name)
	return api.SDKToken(t), flagErr(err, "")
}

// SDKTokens implements api.FlagsBackend.
func (a Backend) SDKTokens(ctx context.Context) ([]api.SDKToken, error) {
	list, err := a.s.Tokens().List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.SDKToken, len(list))
	for i, t := range list {
		out[i] = api.SDKToken(t)
	}
	return out, nil
}

// RevokeSDKToken implements api.FlagsBackend: the token stops working before this returns.
func (a Backend) RevokeSDKToken(ctx context.Context, who, name string) error {
	return flagErr(a.s.Tokens().Revoke(ctx, actor(who), name), "")
}

// actor names the author of a change for the audit history.
func actor(who string) string {
	if who == "" {
		return "api"
	}
	return who
}

// status converts a flag's status and maps its error.
func status(st flags.Status, err error) (api.FlagStatus, error) {
	return api.FlagStatus(st), flagErr(err, "")
}

// flagErr maps the flags package's errors onto the API's: validation errors keep every field
// with its line and column, named after file.
func flagErr(err error, file string) error {
	var ve *flags.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		out := &flagValidationError{file: file, ve: &api.ValidationError{File: file}}
		for _, fe := range ve.Errors {
			out.ve.Fields = append(out.ve.Fields, api.FieldError{Path: fe.Path, Line: fe.Line, Column: fe.Column, Message: fe.Msg})
		}
		return out
	case errors.Is(err, flags.ErrNotFound):
		return &tagged{err: err, tag: api.ErrNotFound}
	case errors.Is(err, flags.ErrInvalid), errors.Is(err, flags.ErrBadRequest):
		return &tagged{err: err, tag: api.ErrInvalid}
	case errors.Is(err, flags.ErrConflict):
		return &tagged{err: err, tag: api.ErrConflict}
	}
	return err
}

// tagged keeps an error's message and adds an API sentinel to its chain.
type tagged struct{ err, tag error }

func (t *tagged) Error() string   { return t.err.Error() }
func (t *tagged) Unwrap() []error { return []error{t.err, t.tag} }

// flagValidationError is an invalid flag configuration: "invalid flag configuration in FILE"
// and one line per field error, with the api.ValidationError in its chain for the API's 400.
type flagValidationError struct {
	file string
	ve   *api.ValidationError
}

func (e *flagValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid flag configuration")
	if e.file != "" {
		b.WriteString(" in " + e.file)
	}
	for _, f := range e.ve.Fields {
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

func (e *flagValidationError) Unwrap() []error { return []error{e.ve, api.ErrInvalid} }
