package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
	"github.com/cutover/cutover/internal/cli"
)

func fixtureService() api.Service {
	d := api.Deployment{ID: 7, Service: "web", From: 3, To: 4, Strategy: "canary", Status: "paused", Phase: "pause", Step: 2}
	return api.Service{
		Name: "web", Stable: 3, Replicas: 2, Strategy: "canary", URL: "http://127.0.0.1:8080/",
		Paths: []string{"/"}, Weights: map[int]int{4: 25, 3: 75}, Deployment: &d,
		Traffic: map[int]api.Counts{3: {Requests: 300, Errors: 1}, 4: {Requests: 100}},
		Instances: []api.Instance{
			{ID: "web-3-a", Revision: 3, State: "running", Addr: "127.0.0.1:41001", Ready: true, Target: true,
				CPUPercent: new(12.5), MemoryBytes: 24 << 20},
			{ID: "web-4-a", Revision: 4, State: "running", Addr: "127.0.0.1:41002", Ready: false, Restarts: 2,
				Message: "readiness: 503"},
		},
	}
}

func statusBackend() *apitest.Backend {
	return &apitest.Backend{
		ServiceFunc: func(_ context.Context, name string) (api.Service, error) {
			if name != "web" {
				return api.Service{}, fmt.Errorf("service %s: %w", name, api.ErrNotFound)
			}
			return fixtureService(), nil
		},
		ServicesFunc: func(context.Context) ([]api.Service, error) {
			return []api.Service{fixtureService(), {Name: "api", Stable: 1, Strategy: "rolling", URL: "http://127.0.0.1:8081/"}}, nil
		},
	}
}

func TestStatusText(t *testing.T) {
	url := daemon(t, statusBackend())
	r := runCLI(t, url, "status", "web")
	want := `service:     web
stable:      3
strategy:    canary
route:       http://127.0.0.1:8080/  paths /
deployment:  7 paused (phase pause, step 2, revision 3 → 4)
weights:     r3 75%  r4 25%
traffic:     r3 300 req 1 err  r4 100 req 0 err
instances:   1/2 ready

INSTANCE  REVISION  STATE    READY  TARGET  ADDR             RESTARTS  CPU    MEMORY   MESSAGE
web-3-a   3         running  yes    yes     127.0.0.1:41001  0         12.5%  24.0MiB  -
web-4-a   4         running  no     no      127.0.0.1:41002  2         -      -        readiness: 503
`
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if diff := cmp.Diff(r.stdout, want); diff != "" {
		t.Errorf("status web (-got +want):\n%s", diff)
	}
	r = runCLI(t, url, "status")
	wantAll := `SERVICE  STABLE  STRATEGY  URL                     DEPLOYMENT                                      INSTANCES
web      3       canary    http://127.0.0.1:8080/  7 paused (phase pause, step 2, revision 3 → 4)  1/2 ready
api      1       rolling   http://127.0.0.1:8081/  -                                               0/0 ready
`
	if diff := cmp.Diff(r.stdout, wantAll); diff != "" {
		t.Errorf("status (-got +want):\n%s", diff)
	}
	if r := runCLI(t, url, "status", "nope"); r.code != cli.ExitNotFound || r.stderr != "error: service nope: not found\n" {
		t.Errorf("status nope: %+v", r)
	}
}

func TestStatusJSON(t *testing.T) {
	url := daemon(t, statusBackend())
	r := runCLI(t, url, "-o", "json", "status", "web")
	var s api.Service
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status web -o json: %v\n%s", err, r.stdout)
	}
	if diff := cmp.Diff(s, fixtureService()); diff != "" {
		t.Errorf("decoded service (-got +want):\n%s", diff)
	}
	r = runCLI(t, url, "-o", "json", "status")
	var list []api.Service
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
		t.Errorf("status -o json: %v, %d services\n%s", err, len(list), r.stdout)
	}
}

func TestStatusWatchRedraws(t *testing.T) {
	url := daemon(t, statusBackend())
	ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
	defer cancel()
	var out, errb strings.Builder
	code := cli.Main(ctx, []string{"--state", t.TempDir(), "--addr", url, "--token", token, "status", "web", "--watch"},
		strings.NewReader(""), &out, &errb, cli.Commands{})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Frames at 0, 500ms and 1000ms.
	if n := strings.Count(out.String(), "(every 500ms"); n < 2 || n > 4 {
		t.Errorf("%d redraws in 1.2s, want about 3", n)
	}
	if n := strings.Count(out.String(), "web-4-a"); n != strings.Count(out.String(), "(every 500ms") {
		t.Errorf("not every frame shows the instances: %d of them", n)
	}
}

// Into a pipe, status --watch writes its frames one after the other, with no code that
// clears a terminal.
func TestStatusWatchPipeHasNoControlCodes(t *testing.T) {
	url := daemon(t, statusBackend())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- cli.Main(ctx, []string{"--state", t.TempDir(), "--addr", url, "--token", token, "status", "web", "--watch"},
			strings.NewReader(""), pw, io.Discard, cli.Commands{})
	}()
	var got []byte
	buf := make([]byte, 4096)
	for strings.Count(string(got), "(every 500ms") < 2 {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatalf("read the watch's output: %v\n%s", err, got)
		}
		got = append(got, buf[:n]...)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if strings.Contains(string(got), "\x1b") {
		t.Errorf("status --watch wrote control codes into a pipe:\n%q", got)
	}
}

func TestHistoryAndActions(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.Local)
	var acts []string
	b := &apitest.Backend{
		HistoryFunc: func(context.Context, string) ([]api.Revision, error) {
			return []api.Revision{
				{Number: 4, SpecHash: "abcdef0123456789", Image: "web:1.4", CreatedAt: at, CreatedBy: "ana", Message: "fix\nlogin"},
				{Number: 3, SpecHash: "0123", Command: "./web", Args: []string{"-v"}, CreatedAt: at, Stable: true, Warm: true},
			}, nil
		},
		ActFunc: func(_ context.Context, svc, action string) (api.Deployment, error) {
			acts = append(acts, action)
			return api.Deployment{ID: 7, Service: svc, From: 3, To: 4, Status: "paused", Phase: "pause"}, nil
		},
	}
	url := daemon(t, b)
	r := runCLI(t, url, "history", "web")
	want := `REVISION  CREATED              BY   HASH          RUNS      MARKS        MESSAGE
4         2025-06-01 12:00:00  ana  abcdef012345  web:1.4   -            fix login
3         2025-06-01 12:00:00  -    0123          ./web -v  stable,warm  -
`
	if diff := cmp.Diff(r.stdout, want); diff != "" {
		t.Errorf("history (-got +want):\n%s", diff)
	}
	for _, args := range [][]string{{"pause", "web"}, {"resume", "web"}, {"abort", "web"}, {"promote", "web"}, {"promote", "web", "--full"}} {
		if r := runCLI(t, url, args...); r.code != 0 {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if diff := cmp.Diff(acts, []string{"pause", "resume", "abort", "promote", "promote_full"}); diff != "" {
		t.Errorf("actions (-got +want):\n%s", diff)
	}
	r = runCLI(t, url, "pause", "web")
	if r.stdout != "pause: deployment 7 paused (phase pause, revision 3 → 4)\n" {
		t.Errorf("pause output %q", r.stdout)
	}
}

func TestEventsLatest(t *testing.T) {
	var all []api.Event
	for i := int64(1); i <= 450; i++ {
		all = append(all, api.Event{ID: i, Service: "web", Type: "t", Message: fmt.Sprint("m", i)})
	}
	b := &apitest.Backend{EventsFunc: func(_ context.Context, q api.EventQuery) ([]api.Event, error) {
		from := min(int(q.AfterID), len(all))
		return all[from:min(from+q.Limit, len(all))], nil
	}}
	r := runCLI(t, daemon(t, b), "-o", "json", "events", "web", "--limit", "3")
	var got []api.Event
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("events -o json: %v\n%s", err, r.stdout)
	}
	var ids []int64
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff(ids, []int64{448, 449, 450}); diff != "" {
		t.Errorf("latest event ids (-got +want):\n%s", diff)
	}
}

// TestStatusShowsLastDeployment: once a deployment has ended, status shows it and its final
// verdict, in text and JSON.
func TestStatusShowsLastDeployment(t *testing.T) {
	svc := fixtureService()
	svc.Deployment, svc.Instances, svc.Traffic = nil, nil, nil
	svc.LastDeployment = &api.Deployment{ID: 8, Service: "web", From: 3, To: 4, Strategy: "canary", Status: "rolled_back",
		Verdict: &api.Verdict{Outcome: "fail", Rule: "latency", Reason: "canary is slower than the baseline", Evidence: json.RawMessage(`{"windows":12}`)}}
	url := daemon(t, &apitest.Backend{ServiceFunc: func(context.Context, string) (api.Service, error) { return svc, nil }})
	r := runCLI(t, url, "status", "web")
	for _, want := range []string{
		"last deployment:  8 rolled_back (revision 3 → 4)\n",
		"verdict:          fail (latency): canary is slower than the baseline\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status web lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, url, "-o", "json", "status", "web")
	var got api.Service
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	if d := got.LastDeployment; d == nil || d.Verdict == nil || !strings.Contains(string(d.Verdict.Evidence), `"windows": 12`) {
		t.Errorf("status -o json: last deployment %+v, want the verdict with its evidence", d)
	}
}
