package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podRun runs one pod's first container and restarts it when it exits (restartPolicy Always).
type podRun struct {
	k   *Kubelet
	pod *corev1.Pod
	ip  string
	log string

	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the current process exits
	st        containerState
	grace     time.Duration
	deleted   chan struct{} // closed once deletion is requested
	delOnce   sync.Once
	done      chan struct{} // closed when the pod's last process is gone
	killed    bool
	probeStop context.CancelFunc
}

// containerState is what the status reports of the container.
type containerState struct {
	running   bool
	ready     bool
	startedAt time.Time
	restarts  int
	waiting   *corev1.ContainerStateWaiting
	last      *corev1.ContainerStateTerminated
	final     *corev1.ContainerStateTerminated
}

func (r *podRun) requestDelete(p *corev1.Pod) {
	r.delOnce.Do(func() {
		r.mu.Lock()
		r.grace = 30 * time.Second
		if p.DeletionGracePeriodSeconds != nil {
			r.grace = time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
		}
		r.mu.Unlock()
		close(r.deleted)
	})
}

func (r *podRun) run() {
	defer close(r.done)
	defer r.k.forget(r)
	c := r.pod.Spec.Containers[0]
	argv, err := r.argv(c)
	if err != nil {
		reason := "ErrImagePull"
		if c.ImagePullPolicy == corev1.PullNever {
			reason = "ErrImageNeverPull"
		}
		r.setWaiting(reason, err.Error())
		<-r.deleted
		r.finish(nil)
		return
	}
	r.loop(argv, resolveEnv(r.pod, c, r.ip))
}

// argv is the process for container c: its image's executable, or its command, then its args.
func (r *podRun) argv(c corev1.Container) ([]string, error) {
	exe, ok := r.k.Images[c.Image]
	if !ok {
		return nil, fmt.Errorf("image %q is not present on test node %s and cannot be pulled", c.Image, r.k.Node)
	}
	if len(c.Command) > 0 {
		return append(append([]string{}, c.Command...), c.Args...), nil
	}
	return append([]string{exe}, c.Args...), nil
}

// loop starts the process, restarts it with backoff after each exit, and stops it on deletion.
func (r *podRun) loop(argv, env []string) {
	backoff := 100 * time.Millisecond
	for {
		began := time.Now()
		exited, err := r.start(argv, env)
		if err != nil {
			r.setWaiting("RunContainerError", err.Error())
		} else {
			select {
			case <-exited:
			case <-r.deleted:
				r.stopProcess(exited)
				r.finish(r.lastExit())
				return
			}
		}
		if time.Since(began) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		r.crashed(backoff)
		select {
		case <-time.After(backoff):
		case <-r.deleted:
			r.finish(r.lastExit())
			return
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (r *podRun) start(argv, env []string) (chan struct{}, error) {
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.st.running, r.st.waiting, r.st.ready, r.st.startedAt = true, nil, false, time.Now()
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		r.exitedWith(err)
		close(exited)
	}()
	r.startProbe()
	r.update()
	return exited, nil
}

// exitedWith records the process's end as the container's last termination.
func (r *podRun) exitedWith(err error) {
	code, reason := 0, "Completed"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		reason = "Error"
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.probeStop != nil {
		r.probeStop()
	}
	r.st.running, r.st.ready = false, false
	r.st.last = &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: reason,
		Message:   fmt.Sprintf("exit status %d", code),
		StartedAt: metav1.NewTime(r.st.startedAt), FinishedAt: metav1.Now()}
}

func (r *podRun) crashed(backoff time.Duration) {
	r.mu.Lock()
	r.st.restarts++
	msg := fmt.Sprintf("back-off %s restarting failed container", backoff)
	if r.st.last != nil {
		msg += ": " + r.st.last.Message
	}
	r.st.waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: msg}
	r.mu.Unlock()
	r.update()
}

func (r *podRun) setWaiting(reason, msg string) {
	r.mu.Lock()
	r.st.waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	r.mu.Unlock()
	r.update()
}

func (r *podRun) lastExit() *corev1.ContainerStateTerminated {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.last
}

// stopProcess sends SIGTERM to the process group, then SIGKILL after the grace period.
func (r *podRun) stopProcess(exited chan struct{}) {
	r.mu.Lock()
	cmd, grace := r.cmd, r.grace
	r.mu.Unlock()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// finish reports the container terminated, then removes the pod from the API.
func (r *podRun) finish(term *corev1.ContainerStateTerminated) {
	r.mu.Lock()
	if term == nil {
		term = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: metav1.Now()}
	}
	r.st.final = term
	killed := r.killed
	r.mu.Unlock()
	if killed {
		return
	}
	r.update()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zero := int64(0)
	uid := r.pod.UID
	_ = r.k.cs.CoreV1().Pods(r.pod.Namespace).Delete(ctx, r.pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
}

// kill ends the process at once without reporting: the test node is going away.
func (r *podRun) kill() {
	r.mu.Lock()
	r.killed = true
	cmd := r.cmd
	r.mu.Unlock()
	r.delOnce.Do(func() { close(r.deleted) })
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
}
