package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
	"github.com/cutover/cutover/internal/store"
)

// flagService is the daemon's feature flag part: the Manager over the SQLite store, the SDK
// tokens that may evaluate, and the OFREP handler served on the API listener.
type flagService struct {
	manager *flags.Manager
	tokens  *sdkTokens
	store   *store.Store
	ofrep   http.Handler
	log     *slog.Logger

	stopOnce sync.Once
	stop     chan struct{} // closed when the API server shuts down: ends OFREP event streams
}

// newFlagService loads the flags and the SDK tokens from st. It starts no goroutine.
func newFlagService(ctx context.Context, st *store.Store, admin *api.Keyring, logger *slog.Logger) (*flagService, error) {
	logger = logger.With("component", "flags")
	s := &flagService{store: st, log: logger, stop: make(chan struct{})}
	s.manager = flags.NewManager(flagStore{st}, logger, flags.ManagerOptions{})
	if err := s.manager.Load(ctx); err != nil {
		return nil, err
	}
	tokens, err := loadSDKTokens(ctx, st, admin)
	if err != nil {
		return nil, err
	}
	s.tokens = tokens
	s.ofrep = flags.NewOFREPHandler(s.manager, logger, flags.OFREPOptions{Tokens: tokens, Done: s.stop})
	return s, nil
}

// run wakes OFREP watchers as rollout steps come due, until ctx is done.
func (s *flagService) run(ctx context.Context) {
	if err := s.manager.Run(ctx); err != nil {
		s.log.Error("flag manager stopped", "error", err)
	}
}

// shutdown ends open OFREP event streams, so that the API server's Shutdown need not wait
// for SDK clients to leave. Safe to call more than once.
func (s *flagService) shutdown() {
	s.stopOnce.Do(func() { close(s.stop) })
}

// flagStore adapts the SQLite store to flags.Store. Each change is also recorded as a
// "flag_changed" event, in the same transaction, for the event feed.
type flagStore struct{ st *store.Store }

// LoadFlags implements flags.Store.
func (f flagStore) LoadFlags(ctx context.Context) ([]flags.Flag, []flags.Segment, error) {
	items, err := f.st.FlagItems(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fs []flags.Flag
	var ss []flags.Segment
	for _, it := range items {
		switch flags.Kind(it.Kind) {
		case flags.KindFlag:
			var v flags.Flag
			if err := json.Unmarshal(it.Value, &v); err != nil {
				return nil, nil, fmt.Errorf("decode flag %s: %w", it.Key, err)
			}
			fs = append(fs, v)
		case flags.KindSegment:
			var v flags.Segment
			if err := json.Unmarshal(it.Value, &v); err != nil {
				return nil, nil, fmt.Errorf("decode segment %s: %w", it.Key, err)
			}
			ss = append(ss, v)
		default:
			return nil, nil, fmt.Errorf("load flags: unknown kind %q of %s", it.Kind, it.Key)
		}
	}
	return fs, ss, nil
}

// ApplyFlagChanges implements flags.Store.
func (f flagStore) ApplyFlagChanges(ctx context.Context, recs []flags.Record) error {
	rows := make([]store.FlagRecord, len(recs))
	for i, r := range recs {
		rows[i] = store.FlagRecord{Time: r.Time, Actor: r.Actor, Action: r.Action, Kind: string(r.Kind), Key: r.Key,
			Before: nullToNil(r.Before), After: nullToNil(r.After)}
	}
	return f.st.Tx(ctx, func(tx *store.Store) error {
		stored, err := tx.ApplyFlagRecords(ctx, rows)
		if err != nil {
			return err
		}
		for _, r := range stored {
			data, _ := json.Marshal(map[string]any{"record": r.ID, "kind": r.Kind, "key": r.Key, "action": r.Action, "actor": r.Actor})
			msg := fmt.Sprintf("%s %s: %s by %s", r.Kind, r.Key, r.Action, r.Actor)
			if _, err := tx.AddEvent(ctx, store.Event{Time: r.Time, Type: "flag_changed", Message: msg, Data: data}); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlagHistory implements flags.Store.
func (f flagStore) FlagHistory(ctx context.Context, q flags.HistoryQuery) ([]flags.Record, error) {
	rows, err := f.st.FlagHistory(ctx, store.FlagHistoryFilter{Kind: string(q.Kind), Key: q.Key, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]flags.Record, len(rows))
	for i, r := range rows {
		out[i] = flags.Record{ID: r.ID, Time: r.Time, Actor: r.Actor, Action: r.Action, Kind: flags.Kind(r.Kind), Key: r.Key,
			Before: nilToNull(r.Before), After: nilToNull(r.After)}
	}
	return out, nil
}

func nullToNil(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func nilToNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
