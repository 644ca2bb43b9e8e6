package deployspec

import (
	"errors"
	"testing"

	"github.com/cutover/cutover/internal/api"
)

const doc = "name: web\nrun:\n  command: ./app\nroute:\n  listen: 127.0.0.1:8080\n"

func TestBuildAppliesOverrides(t *testing.T) {
	s, err := Build(api.DeployRequest{Service: "web", Image: "app:2", Env: []string{"A=1"}}, []byte(doc), "web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Run.Image != "app:2" || s.Run.Env["A"] != "1" {
		t.Errorf("image %q env %v, want app:2 and A=1", s.Run.Image, s.Run.Env)
	}
}

func TestBuildRefusesAnotherServiceAndNamesFields(t *testing.T) {
	var ve *api.ValidationError
	if _, err := Build(api.DeployRequest{Service: "api"}, []byte(doc), "web.yaml"); !errors.As(err, &ve) ||
		len(ve.Fields) != 1 || ve.Fields[0].Path != "name" {
		t.Errorf("a spec for web deployed as api: %v, want a validation error on name", err)
	}
	_, err := Build(api.DeployRequest{Service: "web"}, []byte("name: web\nreplicas: -1\n"), "web.yaml")
	if !errors.As(err, &ve) || ve.File != "web.yaml" || len(ve.Fields) == 0 {
		t.Errorf("an invalid spec: %v, want field errors for web.yaml", err)
	}
	if err := ValidationError("f", errors.New("boom")); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("a plain error: %v, want api.ErrInvalid", err)
	}
}
