package daemon

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

var _ api.FlagsBackend = (*Daemon)(nil)

// Flags implements api.FlagsBackend.
func (d *Daemon) Flags(ctx context.Context) ([]api.FlagStatus, error) {
	list, err := d.flags.manager.Flags()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]api.FlagStatus, len(list))
	for i, f := range list {
		out[i] = flagStatus(f, now)
	}
	return out, nil
}

// Flag implements api.FlagsBackend.
func (d *Daemon) Flag(ctx context.Context, key string) (api.FlagStatus, error) {
	f, err := d.flags.manager.Flag(key)
	if err != nil {
		return api.FlagStatus{}, flagErr(err, "")
	}
	return flagStatus(f, time.Now()), nil
}

// PutFlag implements api.FlagsBackend.
func (d *Daemon) PutFlag(ctx context.Context, who string, f flags.Flag) (api.FlagStatus, error) {
	if err := d.flags.manager.PutFlag(ctx, actor(who), f); err != nil {
		return api.FlagStatus{}, flagErr(err, "")
	}
	return d.Flag(ctx, f.Key)
}

// PutFlagYAML implements api.FlagsBackend.
func (d *Daemon) PutFlagYAML(ctx context.Context, who, key string, data []byte, file string) (api.FlagStatus, error) {
	f, err := parseFlagYAML(data, key, d.flags.manager.Segments())
	if err != nil {
		return api.FlagStatus{}, flagErr(err, file)
	}
	if err := d.flags.manager.PutFlag(ctx, actor(who), f); err != nil {
		return api.FlagStatus{}, flagErr(err, file)
	}
	return d.Flag(ctx, key)
}

// DeleteFlag implements api.FlagsBackend.
func (d *Daemon) DeleteFlag(ctx context.Context, who, key string) error {
	return flagErr(d.flags.manager.DeleteFlag(ctx, actor(who), key), "")
}

// SetFlagEnabled implements api.FlagsBackend.
func (d *Daemon) SetFlagEnabled(ctx context.Context, who, key string, enabled bool) (api.FlagStatus, error) {
	if err := d.flags.manager.SetEnabled(ctx, actor(who), key, enabled); err != nil {
		return api.FlagStatus{}, flagErr(err, "")
	}
	return d.Flag(ctx, key)
}

// SetFlagRollout implements api.FlagsBackend.
func (d *Daemon) SetFlagRollout(ctx context.Context, who, key string, req api.FlagRolloutRequest) (api.FlagStatus, error) {
	if err := checkOneRolloutMode(req); err != nil {
		return api.FlagStatus{}, err
	}
	m := d.flags.manager
	var err error
	switch {
	case req.Halt || req.Resume:
		err = m.HaltRollout(ctx, actor(who), key, req.Halt)
	case req.Clear:
		err = m.SetRollout(ctx, actor(who), key, nil)
	default:
		var f flags.Flag
		if f, err = m.Flag(key); err != nil {
			break
		}
		var r *flags.Rollout
		if r, err = rolloutFor(f, req, time.Now().UTC()); err != nil {
			return api.FlagStatus{}, err
		}
		err = m.SetRollout(ctx, actor(who), key, r)
	}
	if err != nil {
		return api.FlagStatus{}, flagErr(err, "")
	}
	return d.Flag(ctx, key)
}

// FlagHistory implements api.FlagsBackend.
func (d *Daemon) FlagHistory(ctx context.Context, q api.FlagHistoryQuery) ([]flags.Record, error) {
	kind := flags.Kind(q.Kind)
	if q.Key != "" && kind == "" {
		kind = flags.KindFlag
	}
	switch kind {
	case "", flags.KindFlag, flags.KindSegment:
	default:
		return nil, errors.Join(errors.New("history kind "+q.Kind+": want flag or segment"), api.ErrInvalid)
	}
	return d.flags.manager.History(ctx, flags.HistoryQuery{Kind: kind, Key: q.Key, Limit: q.Limit})
}

// ExportFlags implements api.FlagsBackend.
func (d *Daemon) ExportFlags(ctx context.Context) ([]byte, error) {
	return d.flags.manager.Export()
}

// ImportFlags implements api.FlagsBackend.
func (d *Daemon) ImportFlags(ctx context.Context, who string, data []byte, file string, opts flags.ImportOptions) (flags.ImportResult, error) {
	res, err := d.flags.manager.Import(ctx, actor(who), data, opts)
	return res, flagErr(err, file)
}

// flagStatus adds what a flag's rollout serves at now.
func flagStatus(f flags.Flag, now time.Time) api.FlagStatus {
	st := api.FlagStatus{Flag: f}
	if f.Rollout != nil {
		p := f.Rollout.Percent(now)
		st.RolloutPercent = &p
		if t, ok := f.Rollout.NextStep(now); ok {
			st.NextStep = &t
		}
	}
	return st
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
	case errors.Is(err, flags.ErrInvalid):
		return &tagged{err: err, tag: api.ErrInvalid}
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
