package daemon

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/loadgen"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
)

// phasedLoad counts failed requests by phase of a crash test: before the kill, while the
// daemon (and so its proxy) is down, and after the restart settled. A request is placed in
// the phase in which it completed.
type phasedLoad struct {
	mu      sync.Mutex
	killed  time.Time // zero until the kill
	settled time.Time // zero until the restart settled
	failed  [3]int64
	sent    [3]int64
	kinds   [3]map[string]int64
}

func (p *phasedLoad) mark(killed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if killed {
		p.killed = time.Now()
	} else {
		p.settled = time.Now()
	}
}

func (p *phasedLoad) add(r loadgen.Result) {
	if r.Dropped || r.Canceled {
		return
	}
	done := r.Scheduled.Add(r.Latency)
	p.mu.Lock()
	defer p.mu.Unlock()
	phase := 0
	switch {
	case !p.settled.IsZero() && done.After(p.settled):
		phase = 2
	case !p.killed.IsZero():
		phase = 1
	}
	p.sent[phase]++
	if r.Failed {
		p.failed[phase]++
		if p.kinds[phase] == nil {
			p.kinds[phase] = map[string]int64{}
		}
		p.kinds[phase][r.Kind]++
	}
}

// TestKill9MidContainerDeploymentRecovers: the daemon is killed with SIGKILL while a rolling
// deployment of two containers is under way and restarted; the deployment finishes, exactly
// two containers of the new revision run (none of the old one), and under steady load
// requests fail only while the daemon (which holds the proxy) is down.
func TestKill9MidContainerDeploymentRecovers(t *testing.T) {
	image := dockertest.DemoImage(t)
	state := t.TempDir()
	cleanupContainers(t, state)
	listen := freeAddr(t)
	spec := func(v string, env map[string]string) string {
		return imageYAML("web", listen, image, v, "rolling: {max_surge: 1, max_unavailable: 0}\n", env)
	}
	ctx := context.Background()
	p := startServe(t, state)
	first, err := p.client.Deploy(ctx, apiDeploy("web", spec("v1", nil)))
	if err != nil {
		t.Fatal(err)
	}
	waitDeployment(t, p.client, first.ID, "succeeded")

	phases := &phasedLoad{}
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan loadgen.Summary, 1)
	go func() {
		sum, _ := loadgen.Run(loadCtx, loadgen.Config{URL: "http://" + listen + "/", Rate: 100, Workers: 512,
			Timeout: 2 * time.Second, Duration: 5 * time.Minute}, phases.add)
		loadDone <- sum
	}()
	defer stopLoad()
	time.Sleep(500 * time.Millisecond)

	second, err := p.client.Deploy(ctx, apiDeploy("web", spec("v2", map[string]string{"STARTUP_DELAY": "1s"})))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	phases.mark(true)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p2 := startServe(t, state)
	waitDeployment(t, p2.client, second.ID, "succeeded")
	waitFor(t, 60*time.Second, "exactly 2 running containers, all of revision 2", func() bool {
		list := containersOf(t, state)
		for _, c := range list {
			if c.Labels[docker.LabelService] != "web" || c.Labels[docker.LabelRevision] != fmt.Sprint(second.To) || c.State != "running" {
				return false
			}
		}
		return len(list) == 2
	})
	assertServes(t, listen, "v2")
	phases.mark(false)
	time.Sleep(2 * time.Second)
	stopLoad()
	sum := <-loadDone

	phases.mu.Lock()
	defer phases.mu.Unlock()
	t.Logf("load: %s", sum)
	t.Logf("before kill: %d/%d failed %v; daemon down (%s): %d/%d failed %v; after restart: %d/%d failed %v",
		phases.failed[0], phases.sent[0], phases.kinds[0], phases.settled.Sub(phases.killed).Round(time.Millisecond),
		phases.failed[1], phases.sent[1], phases.kinds[1], phases.failed[2], phases.sent[2], phases.kinds[2])
	if phases.failed[0] != 0 || phases.failed[2] != 0 {
		t.Errorf("failed requests outside the downtime: %d before the kill, %d after the restart settled", phases.failed[0], phases.failed[2])
	}
	if phases.sent[0] == 0 || phases.sent[2] == 0 {
		t.Errorf("load did not cover both sides of the crash: %v", phases.sent)
	}
	if sum.ByVersion["v1"] == 0 || sum.ByVersion["v2"] == 0 {
		t.Errorf("load: %s; want both v1 and v2 served", sum)
	}
}
