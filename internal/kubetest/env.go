package kubetest

import (
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// resolveEnv is the process environment of container c: PATH, then c's env in order, with
// fieldRef values (status.podIP, metadata.name, metadata.namespace) and $(VAR) references
// to earlier variables expanded, as the kubelet does.
func resolveEnv(p *corev1.Pod, c corev1.Container, ip string) []string {
	vals := map[string]string{}
	out := []string{"PATH=" + os.Getenv("PATH"), "HOSTNAME=" + p.Name}
	for _, e := range c.Env {
		v := expand(e.Value, vals)
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			v = fieldValue(p, e.ValueFrom.FieldRef.FieldPath, ip)
		}
		vals[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out
}

func fieldValue(p *corev1.Pod, path, ip string) string {
	switch path {
	case "status.podIP":
		return ip
	case "metadata.name":
		return p.Name
	case "metadata.namespace":
		return p.Namespace
	case "spec.nodeName":
		return p.Spec.NodeName
	}
	return ""
}

// expand replaces $(NAME) with an earlier variable's value; unknown references stay as written.
func expand(s string, vals map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := vals[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}
