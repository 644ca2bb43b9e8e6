package stack

import "fmt"

// KindOf decides a service's kind from the project: the x-cutover override when set; else
// job when another service waits for it with service_completed_successfully and it does
// not restart on its own; else routed when it publishes a port (or x-cutover gives it a
// route.listen), stateful when it mounts a
// named volume, worker otherwise.
func KindOf(p *Project, s *Service) Kind {
	if s.Override != "" {
		return s.Override
	}
	if awaitedToComplete(p, s.Name) && !restarts(s.Restart) {
		return Job
	}
	switch {
	case len(s.Ports) > 0 || s.Listens:
		return Routed
	case namedVolume(s) != "":
		return Stateful
	}
	return Worker
}

// ParseKind checks a kind written in x-cutover.
func ParseKind(v any) (Kind, error) {
	s, ok := v.(string)
	if ok {
		for _, k := range Kinds {
			if Kind(s) == k {
				return k, nil
			}
		}
	}
	return "", fmt.Errorf("kind %v: want one of routed, stateful, worker, job", v)
}

// awaitedToComplete reports whether a service depends on name with service_completed_successfully.
func awaitedToComplete(p *Project, name string) bool {
	for _, o := range p.Services {
		for _, d := range o.DependsOn {
			if d.Service == name && d.Condition == ConditionCompleted {
				return true
			}
		}
	}
	return false
}

// restarts reports whether a restart policy runs the container again after it exits 0.
func restarts(policy string) bool {
	return policy == "always" || policy == "unless-stopped"
}

// namedVolume is the first named volume the service mounts, "" when none.
func namedVolume(s *Service) string {
	for _, v := range s.Volumes {
		if v.Named {
			return v.Source
		}
	}
	return ""
}
