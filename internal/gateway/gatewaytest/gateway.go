package gatewaytest

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Gateway stands in for a Gateway API implementation in tests: it serves HTTP on loopback
// and sends each request to a backend of one HTTPRoute chosen by the backendRefs' weights,
// then to a ready pod that backend's Service selects. It reads the route and the pods every
// 100ms, as an implementation watching them would see them change.
type Gateway struct {
	Addr string

	core      kubernetes.Interface
	dyn       dynamic.Interface
	ns, route string
	mu        sync.Mutex
	backends  []backend
}

type backend struct {
	weight int64
	addrs  []string
}

// Start serves route ns/name on a loopback port until ctx ends.
func Start(ctx context.Context, core kubernetes.Interface, dyn dynamic.Interface, ns, route string) (*Gateway, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &Gateway{Addr: ln.Addr().String(), core: core, dyn: dyn, ns: ns, route: route}
	srv := &http.Server{Handler: &httputil.ReverseProxy{Rewrite: g.rewrite, ErrorHandler: badGateway}}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			g.refresh(ctx)
			select {
			case <-ctx.Done():
				_ = srv.Close()
				return
			case <-tick.C:
			}
		}
	}()
	return g, nil
}

func badGateway(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, "gateway: "+err.Error(), http.StatusBadGateway)
}

func (g *Gateway) rewrite(r *httputil.ProxyRequest) {
	r.Out.URL.Scheme, r.Out.URL.Host = "http", g.pick()
}

// pick chooses a pod address by the backends' weights; "" (a refused request) when none.
func (g *Gateway) pick() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var total int64
	for _, b := range g.backends {
		if len(b.addrs) > 0 {
			total += b.weight
		}
	}
	if total == 0 {
		return "127.0.0.1:1"
	}
	n := rand.Int64N(total)
	for _, b := range g.backends {
		if len(b.addrs) == 0 {
			continue
		}
		if n < b.weight {
			return b.addrs[rand.IntN(len(b.addrs))]
		}
		n -= b.weight
	}
	return "127.0.0.1:1"
}

func (g *Gateway) refresh(ctx context.Context) {
	weights, err := BackendWeights(ctx, g.dyn, g.ns, g.route)
	if err != nil {
		return
	}
	var next []backend
	for name, w := range weights {
		next = append(next, backend{weight: w, addrs: g.endpoints(ctx, name)})
	}
	g.mu.Lock()
	g.backends = next
	g.mu.Unlock()
}

// endpoints are the addresses of the ready pods Service name selects.
func (g *Gateway) endpoints(ctx context.Context, name string) []string {
	svc, err := g.core.CoreV1().Services(g.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil || len(svc.Spec.Ports) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector).String()
	pods, err := g.core.CoreV1().Pods(g.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil
	}
	port := strconv.Itoa(svc.Spec.Ports[0].TargetPort.IntValue())
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.PodIP != "" && ready(p) {
			out = append(out, net.JoinHostPort(p.Status.PodIP, port))
		}
	}
	return out
}

func ready(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
