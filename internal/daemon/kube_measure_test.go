package daemon

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/cutover/cutover/internal/api"
)

// TestKubeMeasureAgainstDeployment measures, for docs/benchmarks.md, the same rolling update
// of 3 demo-app pods done two ways on the same control plane and test node, under the same
// load: by cutover (its proxy in front of the pods) and by a plain Deployment through the real
// kube-controller-manager (what `kubectl rollout` waits on), behind a stand-in kube-proxy that
// routes to the Service's ready endpoints as it last read them (every 100ms). It reports the time from deploy to the first request served, the rollout's time per
// replaced pod, and the failed requests of each. A measurement, not a test: it runs only with
// CUTOVER_KUBE_MEASURE=1.
//
//	CUTOVER_KUBE_MEASURE=1 go test -count=1 -v -run TestKubeMeasureAgainstDeployment ./internal/daemon/
func TestKubeMeasureAgainstDeployment(t *testing.T) {
	if os.Getenv("CUTOVER_KUBE_MEASURE") != "1" {
		t.Skip("a measurement: set CUTOVER_KUBE_MEASURE=1")
	}
	const replicas, rate = 3, 100
	c, admin := kubeCluster(t)

	// cutover
	ns := kubeNamespace(t, admin, "measure-cutover")
	h := newKubeHarness(t, c.Kubeconfig(), ns)
	listen := freeAddr(t)
	spec := appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: replicas}
	start := time.Now()
	id, err := kubeDeploy(t, h, spec)
	if err != nil {
		t.Fatal(err)
	}
	first := firstServed(t, "http://"+listen+"/", "v1")
	h.wait(id, 2*time.Minute)
	t.Logf("cutover: deploy to first request served by a pod: %s", first.Sub(start).Round(time.Millisecond))
	stop := loadOnce(t, listen, rate)
	time.Sleep(time.Second)
	spec.Version, spec.Strategy = "v2", "rolling: {max_surge: 1, max_unavailable: 0}\n"
	start = time.Now()
	id, err = kubeDeploy(t, h, spec)
	if err != nil {
		t.Fatal(err)
	}
	got := h.wait(id, 3*time.Minute)
	took := time.Since(start)
	time.Sleep(time.Second)
	sum := stop()
	t.Logf("cutover: rolling update %s in %s (%s per pod); load %s", got.Status, took.Round(time.Millisecond),
		(took / replicas).Round(time.Millisecond), sum)
	logTimeline(t, h, id, start)

	// a Deployment through kube-controller-manager
	dns := kubeNamespace(t, admin, "measure-deployment")
	ctx := context.Background()
	if _, err := admin.CoreV1().Services(dns).Create(ctx, demoService(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, admin, dns)
			if b, err := os.ReadFile(c.Dir + "/controller-manager.log"); err == nil {
				t.Logf("controller-manager.log (end): %s", b[max(0, len(b)-3000):])
			}
		}
	})
	kp := startKubeProxy(t, admin, dns, "web")
	start = time.Now()
	if _, err := admin.AppsV1().Deployments(dns).Create(ctx, demoDeployment(replicas, "v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first = firstServed(t, "http://"+kp+"/", "v1")
	waitRolledOut(t, admin, dns)
	t.Logf("deployment: create to first request served through the Service: %s", first.Sub(start).Round(time.Millisecond))
	stop = loadOnce(t, kp, rate)
	time.Sleep(time.Second)
	start = time.Now()
	d, err := admin.AppsV1().Deployments(dns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Env[2].Value = "v2"
	if _, err := admin.AppsV1().Deployments(dns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, admin, dns)
	took = time.Since(start)
	time.Sleep(time.Second)
	sum = stop()
	t.Logf("deployment: rolling update in %s (%s per pod); load %s", took.Round(time.Millisecond), (took / replicas).Round(time.Millisecond), sum)
}

// firstServed polls url every 5ms until a response carries X-Version version.
func firstServed(t *testing.T, url, version string) time.Time {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	var at time.Time
	waitFor(t, 40*time.Second, "the first request served by "+version, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			return false
		}
		resp.Body.Close()
		at = time.Now()
		return resp.StatusCode == 200 && resp.Header.Get("X-Version") == version
	})
	return at
}

func demoService() *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports:    []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(8080)}}}}
}

// demoDeployment is the Deployment a Kubernetes user would write for the same app: the
// same image, env, readiness probe and rolling parameters as the cutover spec.
func demoDeployment(replicas int32, version string) *appsv1.Deployment {
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr(int64(5)),
			Containers: []corev1.Container{{Name: "app", Image: kubeImage, ImagePullPolicy: corev1.PullNever,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Env: []corev1.EnvVar{
					{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
					{Name: "LISTEN_HOST", Value: "$(POD_IP)"}, {Name: "VERSION", Value: version}, {Name: "PORT", Value: "8080"}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1, FailureThreshold: 2}}}}}}}
}

func ptr[T any](v T) *T { return &v }

// waitRolledOut waits as `kubectl rollout status` does: the controller has seen the latest
// generation, every replica is updated and available, and no old one is left.
func waitRolledOut(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	waitFor(t, 3*time.Minute, "the Deployment rolled out", func() bool {
		d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas &&
			s.Replicas == *d.Spec.Replicas && s.AvailableReplicas == *d.Spec.Replicas
	})
}

// startKubeProxy stands in for kube-proxy: it serves on loopback and sends each request to a
// ready endpoint of the Service as it last read them (every 100ms).
func startKubeProxy(t *testing.T, cs kubernetes.Interface, ns, service string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var addrs []string
	pick := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(addrs) == 0 {
			return "127.0.0.1:1"
		}
		return addrs[rand.IntN(len(addrs))]
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", pick() },
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}}
	srv := &http.Server{Handler: rp}
	go func() { _ = srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if next, err := readyEndpoints(ctx, cs, ns, service); err == nil {
				mu.Lock()
				addrs = next
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return ln.Addr().String()
}

// readyEndpoints are the addresses of the ready pods that Service service selects, not
// being deleted, as the EndpointSlice controller lists them (EndpointSlices refuse the test
// node's loopback pod IPs, so they are read from the pods directly).
func readyEndpoints(ctx context.Context, cs kubernetes.Interface, ns, service string) ([]string, error) {
	svc, err := cs.CoreV1().Services(ns).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(svc.Spec.Ports[0].TargetPort.IntValue())
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.PodIP != "" && podReady(p) {
			out = append(out, net.JoinHostPort(p.Status.PodIP, port))
		}
	}
	return out, nil
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// dumpNamespace logs the pods and EndpointSlices of ns, to see why a rollout did not serve.
func dumpNamespace(t *testing.T, cs kubernetes.Interface, ns string) {
	ctx := context.Background()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s phase %s ip %s conditions %+v", p.Name, p.Status.Phase, p.Status.PodIP, p.Status.Conditions)
		}
	}
	eps, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, e := range eps.Items {
			t.Logf("endpointslice %s labels %v endpoints %+v ports %+v", e.Name, e.Labels, e.Endpoints, e.Ports)
		}
	}
	rs, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err == nil {
		t.Logf("%d replicasets", len(rs.Items))
	}
}

// logTimeline logs the deployment's events with their time since start, to see where a
// rolling update spends its time.
func logTimeline(t *testing.T, h *harness, id int64, start time.Time) {
	evs, err := h.client.Events(context.Background(), api.EventQuery{Service: "web"}, 0)
	if err != nil {
		t.Logf("events: %v", err)
		return
	}
	for _, e := range evs {
		if e.Time.After(start) {
			t.Logf("  +%6s %s: %s", e.Time.Sub(start).Round(10*time.Millisecond), e.Type, e.Message)
		}
	}
}
