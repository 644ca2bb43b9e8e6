package flagapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// TestFlagErrMapsOntoTheAPI: each of the flags package's errors reaches the API with the
// sentinel that picks its status and with its message unchanged; a validation error keeps
// its fields and names the file; anything else stays an internal error.
func TestFlagErrMapsOntoTheAPI(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"not found", fmt.Errorf("flag f: %w", flags.ErrNotFound), api.ErrNotFound},
		{"invalid configuration", fmt.Errorf("halt flag f: flag f has no rollout: %w", flags.ErrInvalid), api.ErrInvalid},
		{"bad request", fmt.Errorf("rollout of f: --to 101: want a percentage from 0 to 100: %w", flags.ErrBadRequest), api.ErrInvalid},
		{"conflict", fmt.Errorf("sdk token web exists: revoke it first: %w", flags.ErrConflict), api.ErrConflict},
	}
	for _, c := range cases {
		got := flagErr(c.err, "")
		if !errors.Is(got, c.want) {
			t.Errorf("%s: %v does not match %v", c.name, got, c.want)
		}
		if got.Error() != c.err.Error() {
			t.Errorf("%s: message %q, want %q", c.name, got, c.err)
		}
	}
	if err := errors.New("disk full"); flagErr(err, "") != err {
		t.Errorf("an unknown error was changed: %v", flagErr(err, ""))
	}
	ve := &flags.ValidationError{Errors: []*flags.FieldError{{Path: "colour", Line: 4, Column: 1, Msg: `unknown field "colour"`}}}
	got := flagErr(ve, "f.yaml")
	var ave *api.ValidationError
	if !errors.As(got, &ave) || !errors.Is(got, api.ErrInvalid) {
		t.Fatalf("validation error: %v, want an *api.ValidationError", got)
	}
	if diff := cmp.Diff(ave.Fields, []api.FieldError{{Path: "colour", Line: 4, Column: 1, Message: `unknown field "colour"`}}); diff != "" {
		t.Errorf("fields (-got +want):\n%s", diff)
	}
	if want := "invalid flag configuration in f.yaml\n  colour (line 4): unknown field \"colour\""; got.Error() != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
