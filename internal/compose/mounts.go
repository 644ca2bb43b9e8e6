package compose

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cutover/cutover/internal/spec"
)

// mapAttachments sets the container's networks (each with the service name as alias, and
// the aliases compose gives), named volumes and bind mounts, and file secrets (read-only at
// /run/secrets/NAME), with the project's names for networks and volumes as compose-go
// resolved them.
func mapAttachments(cp *types.Project, svc types.ServiceConfig, s *spec.Service) []string {
	var warnings []string
	c := s.Run.Container
	if c == nil {
		c = &spec.Container{}
	}
	for _, key := range slices.Sorted(maps.Keys(svc.Networks)) {
		name := cp.Networks[key].Name
		if name == "" {
			name = cp.Name + "_" + key
		}
		n := spec.Network{Name: name, Aliases: []string{svc.Name}}
		if cfg := svc.Networks[key]; cfg != nil {
			n.Aliases = append(n.Aliases, cfg.Aliases...)
		}
		c.Networks = append(c.Networks, n)
	}
	for i, v := range svc.Volumes {
		switch {
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			name := cp.Volumes[v.Source].Name
			if name == "" {
				name = cp.Name + "_" + v.Source
			}
			c.Mounts = append(c.Mounts, spec.Mount{Volume: name, Target: v.Target, ReadOnly: v.ReadOnly})
		case v.Type == types.VolumeTypeBind:
			c.Mounts = append(c.Mounts, spec.Mount{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		default:
			warnings = append(warnings, fmt.Sprintf("service %s: volumes[%d] (%s %s) is ignored: cutover mounts named volumes and host paths", svc.Name, i, v.Type, v.Target))
		}
	}
	for _, sec := range svc.Secrets {
		def := cp.Secrets[sec.Source]
		if def.File == "" {
			warnings = append(warnings, fmt.Sprintf("service %s: secret %s is ignored: cutover mounts file secrets only", svc.Name, sec.Source))
			continue
		}
		name := sec.Source
		if sec.Target != "" {
			name = strings.TrimPrefix(sec.Target, "/run/secrets/")
		}
		c.Mounts = append(c.Mounts, spec.Mount{Source: def.File, Target: "/run/secrets/" + name, ReadOnly: true})
	}
	if len(c.Networks) > 0 || len(c.Mounts) > 0 {
		s.Run.Container = c
	}
	return warnings
}
