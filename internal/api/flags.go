package api

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/flags"
)

// FlagsBackend is what the feature flag routes need from the daemon, apart from Backend so
// that a daemon without flags (and the tests of the rest of the API) need not provide it.
// Errors follow Backend's rules: wrap ErrNotFound, ErrConflict or ErrInvalid, or be a
// *ValidationError (with line and column for YAML input) where the caller is at fault.
// who names the token that made a change (Identity), for the audit history.
type FlagsBackend interface {
	// Flags lists every flag, ordered by key.
	Flags(ctx context.Context) ([]FlagStatus, error)
	Flag(ctx context.Context, key string) (FlagStatus, error)
	// PutFlag creates or replaces the flag f.Key.
	PutFlag(ctx context.Context, who string, f flags.Flag) (FlagStatus, error)
	// PutFlagYAML creates or replaces the flag key from the YAML text of one flag (the fields
	// of one entry of an export); a key in the text must be key. file names it in errors.
	PutFlagYAML(ctx context.Context, who, key string, yaml []byte, file string) (FlagStatus, error)
	DeleteFlag(ctx context.Context, who, key string) error
	// SetFlagEnabled is the kill switch: a disabled flag serves its default variant.
	SetFlagEnabled(ctx context.Context, who, key string, enabled bool) (FlagStatus, error)
	SetFlagRollout(ctx context.Context, who, key string, req FlagRolloutRequest) (FlagStatus, error)
	FlagHistory(ctx context.Context, q FlagHistoryQuery) ([]flags.Record, error)
	// ExportFlags returns every segment and flag as a flags-as-code YAML file.
	ExportFlags(ctx context.Context) ([]byte, error)
	// ImportFlags applies a flags-as-code YAML file atomically; file names it in errors.
	ImportFlags(ctx context.Context, who string, yaml []byte, file string, opts flags.ImportOptions) (flags.ImportResult, error)
	// CreateSDKToken makes a token that may only evaluate flags; the answer is the only
	// time its secret is shown. A taken name wraps ErrConflict.
	CreateSDKToken(ctx context.Context, who, name string) (SDKToken, error)
	SDKTokens(ctx context.Context) ([]SDKToken, error)
	RevokeSDKToken(ctx context.Context, who, name string) error
}

// FlagStatus is a flag as stored, with what its rollout serves at the time of the answer.
type FlagStatus struct {
	flags.Flag
	// RolloutPercent is the rollout's share now, when the flag has a rollout.
	RolloutPercent *float64 `json:"rollout_percent,omitempty"`
	// NextStep is when the rollout's share next changes, if it will.
	NextStep *time.Time `json:"next_step,omitempty"`
}

// FlagRolloutRequest changes a flag's progressive rollout. Exactly one of: To (with Every and
// Step for a schedule), Halt, Resume or Clear.
type FlagRolloutRequest struct {
	// Variant is served to the rollout's share; default: the current rollout's variant, else
	// the variant whose value is true for a boolean flag.
	Variant string `json:"variant,omitempty"`
	// To is the share to reach, in percent (0-100).
	To float64 `json:"to"`
	// Every and Step make a schedule: Step percent now, then Step more every Every until To,
	// counting from the share served now. Every is a Go duration ("10m"); empty: To at once.
	Every string  `json:"every,omitempty"`
	Step  float64 `json:"step,omitempty"`
	// Halt freezes the rollout at its current share; Resume continues its schedule.
	Halt   bool `json:"halt,omitempty"`
	Resume bool `json:"resume,omitempty"`
	// Clear removes the rollout.
	Clear bool `json:"clear,omitempty"`
}

// FlagHistoryQuery selects audit records of flags and segments, newest first.
type FlagHistoryQuery struct {
	// Key selects the records of one flag (or segment, with Kind "segment").
	Key  string `json:"key,omitempty"`
	Kind string `json:"kind,omitempty"`
	// Limit caps the number of records; 0 means 100.
	Limit int `json:"limit,omitempty"`
}

// SDKToken is a named token that may only evaluate flags over OFREP. Token, the secret, is
// set only in the answer that creates it.
type SDKToken struct {
	Name      string    `json:"name"`
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// Option configures NewHandler.
type Option func(*handler)

// WithFlags serves the feature flag management routes (/v1/flags..., /v1/flag-history,
// /v1/sdk-tokens...) over fb.
func WithFlags(fb FlagsBackend) Option {
	return func(h *handler) { h.flags = fb }
}
