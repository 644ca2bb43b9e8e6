package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var flagT0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func TestApplyFlagRecords(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	recs, err := s.Flags().Apply(ctx, []FlagRecord{
		{Time: flagT0, Actor: "ann", Action: "create", Kind: "segment", Key: "staff", After: []byte(`{"name":"staff"}`)},
		{Time: flagT0, Actor: "ann", Action: "create", Kind: "flag", Key: "a", After: []byte(`{"key":"a","v":1}`)},
		{Time: flagT0, Actor: "ann", Action: "create", Kind: "flag", Key: "b", After: []byte(`{"key":"b"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].ID == 0 || recs[1].ID <= recs[0].ID || recs[2].ID <= recs[1].ID {
		t.Fatalf("IDs of applied records: %+v, want increasing non-zero", recs)
	}
	_, err = s.Flags().Apply(ctx, []FlagRecord{
		{Time: flagT0.Add(time.Minute), Actor: "bob", Action: "update", Kind: "flag", Key: "a",
			Before: []byte(`{"key":"a","v":1}`), After: []byte(`{"key":"a","v":2}`)},
		{Time: flagT0.Add(time.Minute), Actor: "bob", Action: "delete", Kind: "flag", Key: "b", Before: []byte(`{"key":"b"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := s.Flags().Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []FlagItem{
		{Kind: "flag", Key: "a", Value: []byte(`{"key":"a","v":2}`), UpdatedAt: flagT0.Add(time.Minute)},
		{Kind: "segment", Key: "staff", Value: []byte(`{"name":"staff"}`), UpdatedAt: flagT0},
	}
	if diff := cmp.Diff(items, want); diff != "" {
		t.Errorf("FlagItems after update and delete (-got +want):\n%s", diff)
	}
}

func TestFlagHistoryFilters(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	for i, key := range []string{"a", "b", "a", "a"} {
		_, err := s.Flags().Apply(ctx, []FlagRecord{{Time: flagT0.Add(time.Duration(i) * time.Second),
			Actor: "ann", Action: "update", Kind: "flag", Key: key, After: []byte(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		Key  string
		Secs int
	}
	rows := func(f FlagHistoryFilter) []row {
		t.Helper()
		h, err := s.Flags().History(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for _, r := range h {
			out = append(out, row{r.Key, int(r.Time.Sub(flagT0).Seconds())})
		}
		return out
	}
	tests := []struct {
		name string
		f    FlagHistoryFilter
		want []row
	}{
		{"all newest first", FlagHistoryFilter{}, []row{{"a", 3}, {"a", 2}, {"b", 1}, {"a", 0}}},
		{"one key", FlagHistoryFilter{Kind: "flag", Key: "a"}, []row{{"a", 3}, {"a", 2}, {"a", 0}}},
		{"limit", FlagHistoryFilter{Key: "a", Limit: 2}, []row{{"a", 3}, {"a", 2}}},
		{"other kind", FlagHistoryFilter{Kind: "segment"}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(rows(tt.f), tt.want); diff != "" {
			t.Errorf("%s: FlagHistory(%+v) (-got +want):\n%s", tt.name, tt.f, diff)
		}
	}
	all, _ := s.Flags().History(ctx, FlagHistoryFilter{})
	if diff := cmp.Diff(rows(FlagHistoryFilter{BeforeID: all[1].ID}), []row{{"b", 1}, {"a", 0}}); diff != "" {
		t.Errorf("BeforeID paging (-got +want):\n%s", diff)
	}
}

// TestApplyFlagRecordsIsAtomic: a bad record in the middle leaves neither the items nor the
// history of the records before it.
func TestApplyFlagRecordsIsAtomic(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	_, err := s.Flags().Apply(ctx, []FlagRecord{
		{Action: "create", Kind: "flag", Key: "a", After: []byte(`{}`)},
		{Action: "create", Kind: "flag", Key: "", After: []byte(`{}`)},
	})
	if err == nil {
		t.Fatal("ApplyFlagRecords with an empty key succeeded")
	}
	items, _ := s.Flags().Items(ctx)
	hist, _ := s.Flags().History(ctx, FlagHistoryFilter{})
	if len(items) != 0 || len(hist) != 0 {
		t.Errorf("after a failed apply: %d items, %d records; want none", len(items), len(hist))
	}
}

func TestFlagsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flags().Apply(t.Context(), []FlagRecord{{Action: "create", Kind: "flag", Key: "a", After: []byte(`{"on":true}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SDKTokens().Create(t.Context(), SDKToken{Name: "web", Hash: "abc"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.Flags().Items(t.Context())
	if err != nil || len(items) != 1 || string(items[0].Value) != `{"on":true}` {
		t.Errorf("FlagItems after reopen = %+v, %v", items, err)
	}
	toks, err := s.SDKTokens().List(t.Context())
	if err != nil || len(toks) != 1 || toks[0].Hash != "abc" {
		t.Errorf("SDKTokens after reopen = %+v, %v", toks, err)
	}
}

func TestSDKTokens(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	a, err := s.SDKTokens().Create(ctx, SDKToken{Name: "web", Hash: "h1", CreatedAt: flagT0, CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SDKTokens().Create(ctx, SDKToken{Name: "web", Hash: "h2"}); !errors.Is(err, ErrExists) {
		t.Errorf("second token named web: %v, want ErrExists", err)
	}
	if _, err := s.SDKTokens().Create(ctx, SDKToken{Name: "api", Hash: "h1"}); err == nil {
		t.Errorf("second token with the same hash was accepted")
	}
	b, err := s.SDKTokens().Create(ctx, SDKToken{Name: "api", Hash: "h3"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.SDKTokens().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(list, []SDKToken{b, a}); diff != "" {
		t.Errorf("SDKTokens (-got +want):\n%s", diff)
	}
	if err := s.SDKTokens().Delete(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if err := s.SDKTokens().Delete(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a deleted token: %v, want ErrNotFound", err)
	}
	if list, _ := s.SDKTokens().List(ctx); len(list) != 1 || list[0].Name != "api" {
		t.Errorf("SDKTokens after delete = %+v, want only api", list)
	}
}
