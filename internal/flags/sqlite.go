package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/store"
)

// flagStore adapts the SQLite store to Store. Each change is also recorded as a
// "flag_changed" event, in the same transaction, for the event feed.
type SQLiteStore struct{ St *store.Store }

// LoadFlags implements Store.
func (f SQLiteStore) LoadFlags(ctx context.Context) ([]Flag, []Segment, error) {
	items, err := f.St.Flags().Items(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fs []Flag
	var ss []Segment
	for _, it := range items {
		switch Kind(it.Kind) {
		case KindFlag:
			var v Flag
			if err := json.Unmarshal(it.Value, &v); err != nil {
				return nil, nil, fmt.Errorf("decode flag %s: %w", it.Key, err)
			}
			fs = append(fs, v)
		case KindSegment:
			var v Segment
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

// ApplyFlagChanges implements Store.
func (f SQLiteStore) ApplyFlagChanges(ctx context.Context, recs []Record) error {
	rows := make([]store.FlagRecord, len(recs))
	for i, r := range recs {
		rows[i] = store.FlagRecord{Time: r.Time, Actor: r.Actor, Action: r.Action, Kind: string(r.Kind), Key: r.Key,
			Before: nullToNil(r.Before), After: nullToNil(r.After)}
	}
	return f.St.Tx(ctx, func(tx *store.Store) error {
		stored, err := tx.Flags().Apply(ctx, rows)
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

// FlagHistory implements Store.
func (f SQLiteStore) FlagHistory(ctx context.Context, q HistoryQuery) ([]Record, error) {
	rows, err := f.St.Flags().History(ctx, store.FlagHistoryFilter{Kind: string(q.Kind), Key: q.Key, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{ID: r.ID, Time: r.Time, Actor: r.Actor, Action: r.Action, Kind: Kind(r.Kind), Key: r.Key,
			Before: nilToNull(r.Before), After: nilToNull(r.After)}
	}
	return out, nil
}

func nullToNil(raw json.RawMessage) []byte {
	if isNull(raw) {
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

// sdkTokenStore adapts the SQLite store to TokenStore.
type SQLiteTokens struct{ St *store.Store }

// SDKTokens implements TokenStore.
func (t SQLiteTokens) SDKTokens(ctx context.Context) ([]StoredToken, error) {
	list, err := t.St.SDKTokens().List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StoredToken, len(list))
	for i, tok := range list {
		out[i] = StoredToken(tok)
	}
	return out, nil
}

// CreateSDKToken implements TokenStore.
func (t SQLiteTokens) CreateSDKToken(ctx context.Context, tok StoredToken) (StoredToken, bool, error) {
	rec, err := t.St.SDKTokens().Create(ctx, store.SDKToken(tok))
	if errors.Is(err, store.ErrExists) {
		return StoredToken{}, false, nil
	}
	return StoredToken(rec), err == nil, err
}

// DeleteSDKToken implements TokenStore.
func (t SQLiteTokens) DeleteSDKToken(ctx context.Context, name string) (bool, error) {
	err := t.St.SDKTokens().Delete(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
