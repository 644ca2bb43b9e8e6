// Package deployspec builds the spec a deploy request asks for: the request's document (or
// the current one the caller read), the request's overrides applied, parsed and validated,
// with spec errors turned into the API's validation error. The single-host daemon and the
// in-cluster controller build a revision's spec the same way through it.
package deployspec

import (
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/spec"
)

// Build applies req's overrides (--set, --image, --env) to doc, read from file, parses it,
// and checks that it names the service the request is for.
func Build(req api.DeployRequest, doc []byte, file string) (*spec.Service, error) {
	sets := req.Set
	if req.Image != "" {
		sets = append(append([]string{}, sets...), "run.image="+req.Image)
	}
	if len(sets) > 0 || len(req.Env) > 0 {
		var err error
		if doc, err = spec.Override(doc, sets, req.Env); err != nil {
			return nil, ValidationError(file, err)
		}
	}
	s, err := spec.Parse(doc, file)
	if err != nil {
		return nil, ValidationError(file, err)
	}
	if req.Service != "" && s.Name != req.Service {
		return nil, &api.ValidationError{File: file, Fields: []api.FieldError{{Path: "name",
			Message: fmt.Sprintf("spec names service %q but the deploy is for %q", s.Name, req.Service)}}}
	}
	return s, nil
}

// ValidationError is err as the API's validation error for file: spec field errors become
// field errors, an API validation error passes as it is, anything else is invalid input.
func ValidationError(file string, err error) error {
	var ve *api.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	var errs spec.Errors
	if !errors.As(err, &errs) {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	ve = &api.ValidationError{File: file}
	for _, fe := range errs {
		ve.Fields = append(ve.Fields, api.FieldError{Path: fe.Path, Line: fe.Line, Column: fe.Column, Message: fe.Message})
	}
	return ve
}
