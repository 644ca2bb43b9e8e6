package secrets

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

func TestCheckNameAndValue(t *testing.T) {
	for _, name := range []string{"", "1A", "A-B", "PORT", "A B"} {
		if err := CheckName(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckName(%q): got %v, want ErrInvalid", name, err)
		}
	}
	if err := CheckName("DATABASE_URL"); err != nil {
		t.Errorf("CheckName(DATABASE_URL): %v", err)
	}
	const hidden = "hidden-value"
	for _, v := range []string{"", hidden + "\x00", hidden + "\xff", hidden + strings.Repeat("x", MaxValue)} {
		err := CheckValue("A", v)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckValue(%.20q): got %v, want ErrInvalid", v, err)
		}
		if err != nil && strings.Contains(err.Error(), hidden) {
			t.Errorf("CheckValue's error quotes the value: %v", err)
		}
	}
	if err := CheckValue("A", "postgres://app:pw@db/app"); err != nil {
		t.Errorf("CheckValue of a URL: %v", err)
	}
}

func TestInject(t *testing.T) {
	s := &spec.Service{Run: spec.Run{Env: map[string]string{"A": "from-spec", "B": "b"}, Secrets: []string{"B"}}}
	replaced := Inject(s, []store.Secret{{Name: "A", Version: 3, Value: []byte("from-store")}, {Name: "C", Version: 1, Value: []byte("c")}})
	if diff := cmp.Diff(replaced, []string{"A"}); diff != "" {
		t.Errorf("replaced (-got +want):\n%s", diff)
	}
	want := spec.Run{
		Env:            map[string]string{"A": "from-store", "B": "b", "C": "c"},
		Secrets:        []string{"B", "A", "C"},
		SecretVersions: map[string]int{"A": 3, "C": 1},
	}
	if diff := cmp.Diff(s.Run, want); diff != "" {
		t.Errorf("run after Inject (-got +want):\n%s", diff)
	}
	spec.StripProvided(&s.Run)
	if diff := cmp.Diff(s.Run, spec.Run{Env: map[string]string{"B": "b"}, Secrets: []string{"B"}}); diff != "" {
		t.Errorf("run after StripProvided (-got +want):\n%s", diff)
	}
}
