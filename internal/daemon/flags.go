package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/flags"
	"github.com/cutover/cutover/internal/store"
)

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

// sdkTokenStore adapts the SQLite store to flags.TokenStore.
type sdkTokenStore struct{ st *store.Store }

// SDKTokens implements flags.TokenStore.
func (t sdkTokenStore) SDKTokens(ctx context.Context) ([]flags.StoredToken, error) {
	list, err := t.st.SDKTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]flags.StoredToken, len(list))
	for i, tok := range list {
		out[i] = flags.StoredToken(tok)
	}
	return out, nil
}

// CreateSDKToken implements flags.TokenStore.
func (t sdkTokenStore) CreateSDKToken(ctx context.Context, tok flags.StoredToken) (flags.StoredToken, bool, error) {
	rec, err := t.st.CreateSDKToken(ctx, store.SDKToken(tok))
	if errors.Is(err, store.ErrExists) {
		return flags.StoredToken{}, false, nil
	}
	return flags.StoredToken(rec), err == nil, err
}

// DeleteSDKToken implements flags.TokenStore.
func (t sdkTokenStore) DeleteSDKToken(ctx context.Context, name string) (bool, error) {
	err := t.st.DeleteSDKToken(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
