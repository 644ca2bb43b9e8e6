package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/stack"
)

// defaultContainerPort is the port a container listens on when its spec names none (the
// Docker runtime's default, given as PORT).
const defaultContainerPort = 8080

// applyNames decides how the stack's containers reach its routed services by name
// (stack.ProxyNames), from the gateways of the routed services' first networks, and writes
// it into the services: a routed one's route.internal and networks without its own name as
// alias, and every container's hosts. While a network does not exist yet (before the first
// deploy creates it) nothing is changed. It returns the warnings.
func (a *app) applyNames(ctx context.Context, services []*stack.Service) ([]string, error) {
	var ports []stack.RoutedPort
	for _, s := range services {
		c := containerOf(s)
		if s.Spec == nil || c == nil || len(c.Networks) == 0 {
			continue
		}
		gw, err := a.gateway(ctx, c.Networks[0].Name)
		if err != nil || gw == "" {
			return nil, err
		}
		port := c.Port
		if port == 0 {
			port = defaultContainerPort
		}
		ports = append(ports, stack.RoutedPort{Service: s.Name, Port: port, Gateway: gw})
	}
	if len(ports) == 0 {
		return nil, nil
	}
	names := stack.ProxyNames(ports)
	for _, s := range services {
		c := containerOf(s)
		if c == nil {
			continue
		}
		c.Hosts = names.HostsFor(s.Name)
		if addr, ok := names.Internal[s.Name]; ok {
			s.Spec.Route.Internal = []string{addr}
			for i := range c.Networks {
				c.Networks[i].Aliases = slices.DeleteFunc(slices.Clone(c.Networks[i].Aliases), func(n string) bool { return n == s.Name })
			}
		}
	}
	return names.Warnings, nil
}

// containerOf is the container section of a service: its spec's for a routed one.
func containerOf(s *stack.Service) *spec.Container {
	if s.Spec != nil {
		return s.Spec.Run.Container
	}
	return s.Container
}

// gateway is the gateway of a network, "" when it does not exist or Docker does not answer.
func (a *app) gateway(ctx context.Context, network string) (string, error) {
	d, err := a.docker("")
	if err != nil {
		return "", nil
	}
	defer d.Close()
	gw, err := d.Gateway(ctx, network)
	if err != nil {
		return "", fmt.Errorf("names: %w", err)
	}
	return gw, nil
}

// stepServices are the services of the plan.
func stepServices(plan *stack.Plan) []*stack.Service {
	out := make([]*stack.Service, 0, len(plan.Steps))
	for _, st := range plan.Steps {
		out = append(out, st.Service)
	}
	return out
}

// nameRoutes applies the names once the networks exist (the first deploy creates them
// after planning), and gives the imported routed specs their internal address, networks
// and hosts as decided.
func (a *app) nameRoutes(ctx context.Context, plan *stack.Plan, imports map[string]compose.Import) error {
	warnings, err := a.applyNames(ctx, stepServices(plan))
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	for _, st := range plan.Steps {
		imp, ok := imports[st.Service.Name]
		if !ok || st.Service.Spec == nil {
			continue
		}
		imp.Spec.Route.Internal = st.Service.Spec.Route.Internal
		imp.Spec.Run.Container = st.Service.Spec.Run.Container
		imports[st.Service.Name] = imp
	}
	return nil
}
