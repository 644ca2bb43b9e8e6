package kubetest

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// update writes the pod's status from the run's container state.
func (r *podRun) update() {
	r.mu.Lock()
	st := r.st
	killed := r.killed
	r.mu.Unlock()
	if killed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods := r.k.cs.CoreV1().Pods(r.pod.Namespace)
	_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := pods.Get(ctx, r.pod.Name, metav1.GetOptions{})
		if err != nil || p.UID != r.pod.UID {
			return err
		}
		p.Status = r.status(st, p.Status.StartTime)
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
}

func (r *podRun) status(st containerState, started *metav1.Time) corev1.PodStatus {
	if started == nil {
		now := metav1.Now()
		started = &now
	}
	c := r.pod.Spec.Containers[0]
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "test-node://" + c.Image,
		Ready: st.ready, RestartCount: int32(st.restarts), LastTerminationState: terminated(st.last)}
	phase := corev1.PodPending
	switch {
	case st.final != nil:
		cs.State, cs.LastTerminationState = terminated(st.final), corev1.ContainerState{}
		phase = corev1.PodSucceeded
		if st.final.ExitCode != 0 {
			phase = corev1.PodFailed
		}
	case st.running:
		started := true
		cs.Started = &started
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(st.startedAt)}}
		phase = corev1.PodRunning
	case st.waiting != nil:
		cs.State = corev1.ContainerState{Waiting: st.waiting.DeepCopy()}
		if st.restarts > 0 {
			phase = corev1.PodRunning
		}
	}
	return corev1.PodStatus{
		Phase: phase, HostIP: "127.0.0.1", PodIP: r.ip, PodIPs: []corev1.PodIP{{IP: r.ip}},
		StartTime: started, ContainerStatuses: []corev1.ContainerStatus{cs},
		Conditions: []corev1.PodCondition{
			cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, st.ready), cond(corev1.PodReady, st.ready),
		},
	}
}

func terminated(t *corev1.ContainerStateTerminated) corev1.ContainerState {
	if t == nil {
		return corev1.ContainerState{}
	}
	return corev1.ContainerState{Terminated: t.DeepCopy()}
}

func cond(t corev1.PodConditionType, ok bool) corev1.PodCondition {
	s := corev1.ConditionFalse
	if ok {
		s = corev1.ConditionTrue
	}
	return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()}
}
