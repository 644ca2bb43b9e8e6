package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/yamlread"
)

// Specs reads a service's record, whose spec (JSON) holds its notify targets.
type Specs interface {
	GetService(ctx context.Context, name string) (store.Service, error)
}

// Directory is where targets are found: the daemon-wide ones (serve --notify-config) and each
// service's spec's `notify` list (named "<service>/<name>"). It implements Targets.
type Directory struct {
	Global []Target
	Specs  Specs
}

// Targets implements Targets.
func (d Directory) Targets(ctx context.Context, service string) ([]Target, error) {
	out := append([]Target(nil), d.Global...)
	if service == "" {
		return out, nil
	}
	own, err := d.serviceTargets(ctx, service)
	return append(out, own...), err
}

// Target implements Targets.
func (d Directory) Target(ctx context.Context, name string) (Target, bool, error) {
	service, _, scoped := strings.Cut(name, "/")
	list := d.Global
	if scoped {
		var err error
		if list, err = d.serviceTargets(ctx, service); err != nil {
			return Target{}, false, err
		}
	}
	for _, t := range list {
		if t.Name == name {
			return t, true, nil
		}
	}
	return Target{}, false, nil
}

func (d Directory) serviceTargets(ctx context.Context, service string) ([]Target, error) {
	rec, err := d.Specs.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("notify targets of %s: %w", service, err)
	}
	var sp spec.Service
	if err := json.Unmarshal(rec.Spec, &sp); err != nil {
		return nil, fmt.Errorf("notify targets of %s: decode spec: %w", service, err)
	}
	out := make([]Target, 0, len(sp.Notify))
	for _, n := range sp.Notify {
		out = append(out, Target{Name: service + "/" + n.Name, Kind: n.Type, URL: n.URL, Secret: n.Secret, Events: n.Events})
	}
	return out, nil
}

// configLimits bound a daemon-wide notify file.
var configLimits = yamlread.Limits{Bytes: 64 << 10, Depth: 8, Aliases: 0, Nodes: 10_000, ExpandedBytes: 256 << 10}

// LoadConfig reads the daemon-wide targets: a YAML file with a `notify:` list of targets
// (name, type, url, secret, events), each checked; an error names the field.
func LoadConfig(path string) ([]Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notify config: %w", err)
	}
	var doc struct {
		Notify []Target `yaml:"notify"`
	}
	if err := yamlread.Unmarshal(data, &doc, configLimits, yaml.Strict()); err != nil {
		// Only the first line: the rest quotes the file, URLs and secrets included.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, fmt.Errorf("notify config %s: %s", path, msg)
	}
	seen := map[string]bool{}
	for i, t := range doc.Notify {
		if err := t.Validate(fmt.Sprintf("notify[%d]", i)); err != nil {
			return nil, fmt.Errorf("notify config %s: %w", path, err)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("notify config %s: notify[%d].name: %q is used twice", path, i, t.Name)
		}
		seen[t.Name] = true
	}
	return doc.Notify, nil
}
