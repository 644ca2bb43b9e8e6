package flags

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memTokens is a TokenStore in memory, for the unit tests of SDKTokens and Service.
type memTokens struct {
	mu   sync.Mutex
	toks map[string]StoredToken
}

func (m *memTokens) SDKTokens(context.Context) ([]StoredToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredToken
	for _, k := range slices.Sorted(maps.Keys(m.toks)) {
		out = append(out, m.toks[k])
	}
	return out, nil
}

func (m *memTokens) CreateSDKToken(_ context.Context, t StoredToken) (StoredToken, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.toks[t.Name]; ok {
		return StoredToken{}, false, nil
	}
	if m.toks == nil {
		m.toks = map[string]StoredToken{}
	}
	t.CreatedAt = t0
	m.toks[t.Name] = t
	return t, true, nil
}

func (m *memTokens) DeleteSDKToken(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.toks[name]
	delete(m.toks, name)
	return ok, nil
}

// adminToken admits one admin token.
type adminToken string

func (a adminToken) Check(token string) bool { return token != "" && token == string(a) }

func newService(t *testing.T, ts TokenStore, now func() time.Time, events *[]string) *Service {
	t.Helper()
	rec := func(_ context.Context, typ, msg string, _ map[string]any) { *events = append(*events, typ+": "+msg) }
	s, err := NewService(context.Background(), &MemStore{}, ts, slog.New(slog.DiscardHandler),
		ServiceOptions{Admin: adminToken("admin"), Event: rec, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSDKTokens: a created token evaluates at once and after a reload from its store, the
// admin token evaluates too, a revoked one stops at once; bad and taken names are refused.
func TestSDKTokens(t *testing.T) {
	ctx := context.Background()
	ts := &memTokens{}
	var events []string
	tokens := newService(t, ts, nil, &events).Tokens()
	tok, err := tokens.Create(ctx, "ann", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, SDKTokenPrefix) || tok.CreatedBy != "ann" || tok.Name != "web" {
		t.Errorf("created token %+v: want name web, by ann, secret starting %q", tok, SDKTokenPrefix)
	}
	if strings.Contains(ts.toks["web"].Hash, strings.TrimPrefix(tok.Token, SDKTokenPrefix)) {
		t.Errorf("the store holds the secret, not only its hash: %+v", ts.toks["web"])
	}
	reloaded, err := LoadSDKTokens(ctx, ts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		checker *SDKTokens
		token   string
		ok      bool
	}{
		"new token":                  {tokens, tok.Token, true},
		"new token after a reload":   {reloaded, tok.Token, true},
		"admin token":                {tokens, "admin", true},
		"admin token without admins": {reloaded, "admin", false},
		"wrong token":                {tokens, tok.Token + "x", false},
		"empty token":                {tokens, "", false},
	} {
		if err := c.checker.CheckToken(ctx, c.token); (err == nil) != c.ok {
			t.Errorf("%s: CheckToken = %v, want admitted %t", name, err, c.ok)
		}
	}
	if _, err := tokens.Create(ctx, "bob", "web"); !errors.Is(err, ErrConflict) {
		t.Errorf("a second token named web: %v, want ErrConflict", err)
	}
	if _, err := tokens.Create(ctx, "bob", "no spaces"); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "sdk token name") {
		t.Errorf("a bad name: %v, want ErrBadRequest naming the field", err)
	}
	if list, err := tokens.List(ctx); err != nil || len(list) != 1 || list[0].Token != "" {
		t.Errorf("list: %+v, %v; want web without its secret", list, err)
	}
	if err := tokens.Revoke(ctx, "cid", "web"); err != nil {
		t.Fatal(err)
	}
	if err := tokens.CheckToken(ctx, tok.Token); err == nil {
		t.Error("a revoked token is still admitted")
	}
	if err := tokens.Revoke(ctx, "cid", "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking it again: %v, want ErrNotFound", err)
	}
	want := []string{"sdk_token_created: sdk token web created by ann", "sdk_token_revoked: sdk token web revoked by cid"}
	if diff := cmp.Diff(events, want); diff != "" {
		t.Errorf("events (-got +want):\n%s", diff)
	}
}

// TestServiceRollout: a rollout request becomes the flag's schedule, its status says what it
// serves now and when that changes; halt freezes it, clear removes it; bad requests change
// nothing.
func TestServiceRollout(t *testing.T) {
	ctx := context.Background()
	now := t0
	var events []string
	s := newService(t, &memTokens{}, func() time.Time { return now }, &events)
	if _, err := s.PutFlag(ctx, "ann", *boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	st, err := s.SetRollout(ctx, "ann", "f", RolloutRequest{To: 30, Every: "10m", Step: 10})
	if err != nil {
		t.Fatal(err)
	}
	if st.RolloutPercent == nil || *st.RolloutPercent != 10 || st.NextStep == nil || !st.NextStep.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("status after the rollout: %+v, want 10%% now and a step at +10m", st)
	}
	now = t0.Add(15 * time.Minute)
	if st, _ := s.Flag("f"); *st.RolloutPercent != 20 {
		t.Errorf("share at +15m: %v, want 20", *st.RolloutPercent)
	}
	if st, err = s.SetRollout(ctx, "bob", "f", RolloutRequest{Halt: true}); err != nil || !st.Rollout.Halted || st.NextStep != nil {
		t.Errorf("halt: %+v, %v; want halted without a next step", st, err)
	}
	for name, req := range map[string]RolloutRequest{
		"halt and clear":  {Halt: true, Clear: true},
		"halt and target": {Halt: true, To: 50},
		"over 100":        {To: 101},
	} {
		if _, err := s.SetRollout(ctx, "bob", "f", req); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := s.SetRollout(ctx, "bob", "nope", RolloutRequest{To: 5}); !errors.Is(err, ErrNotFound) {
		t.Errorf("rollout of an unknown flag: %v, want ErrNotFound", err)
	}
	if st, err = s.SetRollout(ctx, "bob", "f", RolloutRequest{Clear: true}); err != nil || st.Rollout != nil || st.RolloutPercent != nil {
		t.Errorf("clear: %+v, %v; want no rollout", st, err)
	}
	if _, err := s.SetRollout(ctx, "bob", "f", RolloutRequest{Resume: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("resume without a rollout: %v, want ErrInvalid", err)
	}
	hist, err := s.History(ctx, "", "f", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range hist {
		got = append(got, r.Actor+" "+r.Action)
	}
	if want := []string{"bob rollout", "bob halt", "ann rollout", "ann create"}; !slices.Equal(got, want) {
		t.Errorf("history: %q, want %q", got, want)
	}
	if _, err := s.History(ctx, "flags", "", 0); !errors.Is(err, ErrBadRequest) {
		t.Errorf("history of kind flags: %v, want ErrBadRequest", err)
	}
}

// TestPutFlagYAML: the YAML of one flag takes its key from the call, its errors point at the
// user's own lines and paths, and a file for another key is refused; nothing is stored then.
func TestPutFlagYAML(t *testing.T) {
	ctx := context.Background()
	var events []string
	s := newService(t, &memTokens{}, nil, &events)
	bad := "type: boolean\nvariants: {on: true, off: false}\ndefault_variant: off\ncolour: blue\nrules: [{segments: [nope], variant: on}]\n"
	_, err := s.PutFlagYAML(ctx, "t", "f", []byte(bad))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("bad file: %v, want a *ValidationError", err)
	}
	want := []*FieldError{
		{Path: "colour", Line: 4, Column: 1, Msg: `unknown field "colour"`},
		{Path: "rules[0].segments[0]", Line: 5, Column: 21, Msg: `segment "nope" is not defined`},
	}
	if diff := cmp.Diff(ve.Errors, want); diff != "" {
		t.Errorf("field errors (-got +want):\n%s", diff)
	}
	if _, err := s.Flag("f"); !errors.Is(err, ErrNotFound) {
		t.Errorf("flag after a rejected file: %v, want not found", err)
	}
	good := "type: boolean\nvariants: {on: true, off: false}\ndefault_variant: off\nenabled: true\n"
	if st, err := s.PutFlagYAML(ctx, "t", "f", []byte(good)); err != nil || st.Key != "f" || !st.Enabled {
		t.Errorf("good file without a key: %+v, %v", st, err)
	}
	if _, err := s.PutFlagYAML(ctx, "t", "f", []byte("key: g\n"+good)); !errors.As(err, &ve) || ve.Errors[0].Path != "key" {
		t.Errorf("file for another key: %v, want a key error", err)
	}
}
