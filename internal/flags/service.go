package flags

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// ErrBadRequest is wrapped by errors in a request to the Service itself, as opposed to the
// configuration of a flag (ErrInvalid): a rollout's figures, an SDK token's name, a history
// kind.
var ErrBadRequest = errors.New("invalid input")

// ErrConflict is wrapped by an error for something that exists already (an SDK token's name).
var ErrConflict = errors.New("conflict")

// EventFunc records an event of the flag service (an SDK token created or revoked) for the
// daemon's event feed. It handles its own errors.
type EventFunc func(ctx context.Context, typ, message string, data map[string]any)

// ServiceOptions configures a Service.
type ServiceOptions struct {
	// Admin admits the control API's tokens to the OFREP endpoints too; nil admits none.
	Admin AdminTokens
	// Event records SDK token changes; nil records nothing.
	Event EventFunc
	// Now is the clock of audit times, rollout schedules and statuses; time.Now when nil.
	Now func() time.Time
}

// Service is the flag part of a daemon: a Manager over a Store, the SDK tokens that may
// evaluate, the OFREP handler that serves them, and the use cases of the control API
// (statuses, scheduled rollouts, one flag's YAML, history). It starts no goroutine: Run wakes
// OFREP watchers as rollout steps come due. Its methods are safe for concurrent use.
type Service struct {
	manager *Manager
	tokens  *SDKTokens
	ofrep   http.Handler
	now     func() time.Time

	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown: ends OFREP event streams
}

// NewService loads the flags from st and the SDK tokens from ts.
func NewService(ctx context.Context, st Store, ts TokenStore, logger *slog.Logger, opts ServiceOptions) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{now: opts.Now, stop: make(chan struct{})}
	s.manager = NewManager(st, logger, ManagerOptions{Now: opts.Now})
	if err := s.manager.Load(ctx); err != nil {
		return nil, err
	}
	tokens, err := LoadSDKTokens(ctx, ts, opts.Admin, opts.Event)
	if err != nil {
		return nil, err
	}
	s.tokens = tokens
	s.ofrep = NewOFREPHandler(s.manager, logger, OFREPOptions{Tokens: tokens, QueryTokens: tokens.SDKOnly(), Done: s.stop})
	return s, nil
}

// Run wakes OFREP watchers as rollout steps come due. It blocks until ctx is done.
func (s *Service) Run(ctx context.Context) error { return s.manager.Run(ctx) }

// OFREP is the handler of the OFREP endpoints (under /ofrep/).
func (s *Service) OFREP() http.Handler { return s.ofrep }

// Shutdown ends open OFREP event streams, so that an HTTP server's Shutdown need not wait for
// SDK clients to leave. Safe to call more than once.
func (s *Service) Shutdown() { s.stopOnce.Do(func() { close(s.stop) }) }

// Tokens returns the SDK tokens.
func (s *Service) Tokens() *SDKTokens { return s.tokens }

// PutFlag creates or replaces the flag f.Key on behalf of actor (see Manager.PutFlag).
func (s *Service) PutFlag(ctx context.Context, actor string, f Flag) (Status, error) {
	if err := s.manager.PutFlag(ctx, actor, f); err != nil {
		return Status{}, err
	}
	return s.Flag(f.Key)
}

// DeleteFlag deletes the flag named key, or returns an error wrapping ErrNotFound.
func (s *Service) DeleteFlag(ctx context.Context, actor, key string) error {
	return s.manager.DeleteFlag(ctx, actor, key)
}

// SetEnabled is the kill switch: a disabled flag serves its default variant.
func (s *Service) SetEnabled(ctx context.Context, actor, key string, enabled bool) (Status, error) {
	if err := s.manager.SetEnabled(ctx, actor, key, enabled); err != nil {
		return Status{}, err
	}
	return s.Flag(key)
}

// History returns audit records, newest first: of every flag and segment, of one kind
// ("flag" or "segment"), or of one key (a flag's when kind is empty). A bad kind wraps
// ErrBadRequest.
func (s *Service) History(ctx context.Context, kind, key string, limit int) ([]Record, error) {
	k := Kind(kind)
	if key != "" && k == "" {
		k = KindFlag
	}
	switch k {
	case "", KindFlag, KindSegment:
	default:
		return nil, errors.Join(errors.New("history kind "+kind+": want flag or segment"), ErrBadRequest)
	}
	return s.manager.History(ctx, HistoryQuery{Kind: k, Key: key, Limit: limit})
}

// Export returns every segment and flag as a flags-as-code YAML file.
func (s *Service) Export() ([]byte, error) { return s.manager.Export() }

// Import applies a flags-as-code YAML file atomically (see Manager.Import).
func (s *Service) Import(ctx context.Context, actor string, data []byte, opts ImportOptions) (ImportResult, error) {
	return s.manager.Import(ctx, actor, data, opts)
}
