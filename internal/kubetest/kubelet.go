package kubetest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Kubelet is a test node: it binds every pending pod to itself and runs each pod's first
// container as a local process on a loopback address of its own (127.0.0.2, .3, …),
// reporting the pod IP, conditions, container state, restarts and exit codes through the
// real API, and serving container logs to the apiserver as a kubelet does. Images are not
// pulled: Images maps an image name to a local executable; any other image fails the way a
// failed pull does (waiting, reason ErrImagePull). It is a test harness, not a kubelet.
type Kubelet struct {
	Node   string
	Images map[string]string
	Dir    string // log files

	cs      kubernetes.Interface
	logPort int
	mu      sync.Mutex
	pods    map[types.UID]*podRun
	gone    map[types.UID]bool // pods whose run has ended: late events must not start them again
	ips     map[string]bool
}

// NewKubelet returns a test node named node over cs; Run starts it.
func NewKubelet(cs kubernetes.Interface, node, dir string, images map[string]string) *Kubelet {
	return &Kubelet{Node: node, Images: images, Dir: dir, cs: cs,
		pods: map[types.UID]*podRun{}, gone: map[types.UID]bool{}, ips: map[string]bool{}}
}

// Run registers the node, serves logs and runs pods until ctx is done; then it kills every
// process it started. It returns once the node is registered and watching.
func (k *Kubelet) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("kubelet: listen: %w", err)
	}
	k.logPort = ln.Addr().(*net.TCPAddr).Port
	if err := k.serveLogs(ctx, ln); err != nil {
		return err
	}
	if err := k.register(ctx); err != nil {
		return err
	}
	k.watch(ctx, fields.OneTermEqualSelector("spec.nodeName", ""), k.bind)
	k.watch(ctx, fields.OneTermEqualSelector("spec.nodeName", k.Node), k.sync)
	go func() {
		<-ctx.Done()
		k.killAll()
	}()
	return nil
}

// watch runs handle for every pod matching sel, on each add and update.
func (k *Kubelet) watch(ctx context.Context, sel fields.Selector, handle func(*corev1.Pod)) {
	f := informers.NewSharedInformerFactoryWithOptions(k.cs, 5*time.Second,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = sel.String() }))
	inf := f.Core().V1().Pods().Informer()
	on := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok {
			handle(p)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    on,
		UpdateFunc: func(_, obj any) { on(obj) },
	})
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
}

func (k *Kubelet) register(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.Node}}
	node, err := k.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("kubelet: register node: %w", err)
	}
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.logPort)}},
		Capacity: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("250"),
			corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi")},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
		Images: k.images(),
	}
	node.Status.Allocatable = node.Status.Capacity
	if _, err := k.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("kubelet: node status: %w", err)
	}
	return nil
}

func (k *Kubelet) images() []corev1.ContainerImage {
	var out []corev1.ContainerImage
	for name := range k.Images {
		out = append(out, corev1.ContainerImage{Names: []string{name}, SizeBytes: 1})
	}
	return out
}

// bind assigns a pending pod to this node, as the scheduler would.
func (k *Kubelet) bind(p *corev1.Pod) {
	if p.DeletionTimestamp != nil {
		return
	}
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: k.Node}}
	_ = k.cs.CoreV1().Pods(p.Namespace).Bind(context.Background(), b, metav1.CreateOptions{})
}

// sync starts a run for a new pod and passes a deletion to the pod's run.
func (k *Kubelet) sync(p *corev1.Pod) {
	k.mu.Lock()
	if k.gone[p.UID] {
		k.mu.Unlock()
		return
	}
	r, ok := k.pods[p.UID]
	if !ok {
		r = &podRun{k: k, pod: p.DeepCopy(), deleted: make(chan struct{}), done: make(chan struct{})}
		r.ip = k.allocIP()
		r.log = filepath.Join(k.Dir, p.Namespace+"_"+p.Name+"_"+string(p.UID)+".log")
		k.pods[p.UID] = r
	}
	k.mu.Unlock()
	if !ok {
		go r.run()
	}
	if p.DeletionTimestamp != nil {
		r.requestDelete(p)
	}
}

// allocIP returns a free loopback address; callers hold k.mu.
func (k *Kubelet) allocIP() string {
	for n := 2; n < 255; n++ {
		ip := "127.0.0." + strconv.Itoa(n)
		if !k.ips[ip] {
			k.ips[ip] = true
			return ip
		}
	}
	return ""
}

func (k *Kubelet) forget(r *podRun) {
	k.mu.Lock()
	delete(k.pods, r.pod.UID)
	k.gone[r.pod.UID] = true
	delete(k.ips, r.ip)
	k.mu.Unlock()
}

// byName returns the run of the pod ns/name, if this node runs it.
func (k *Kubelet) byName(ns, name string) *podRun {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range k.pods {
		if r.pod.Namespace == ns && r.pod.Name == name {
			return r
		}
	}
	return nil
}

func (k *Kubelet) killAll() {
	k.mu.Lock()
	runs := make([]*podRun, 0, len(k.pods))
	for _, r := range k.pods {
		runs = append(runs, r)
	}
	k.mu.Unlock()
	for _, r := range runs {
		r.kill()
	}
}
