package stack

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/spec"
)

// files is a FileSystem of absolute paths: directories end with "/".
type files map[string]bool

func (f files) Stat(name string) (fs.FileInfo, error) {
	if f[name+"/"] {
		return fstest.MapFS{"d/x": {}}.Stat("d")
	}
	if f[name] {
		return fstest.MapFS{"x": {}}.Stat("x")
	}
	return nil, fs.ErrNotExist
}

func dep(name, cond string) Dependency { return Dependency{Service: name, Condition: cond} }

// appStack is the stack of the issue: web built, db with a volume, a worker, a migration job.
func appStack() *Project {
	return &Project{Name: "app", Services: []Service{
		{Name: "web", Build: &Build{Context: "/src/web"}, Ports: []Port{{Published: 8080, Target: 8080}},
			DependsOn: []Dependency{dep("db", ConditionHealthy), dep("migrate", ConditionCompleted)}},
		{Name: "db", Image: "demo:1", Healthcheck: true, Volumes: []Volume{{Named: true, Source: "data", Target: "/data"}}},
		{Name: "worker", Image: "demo:1", DependsOn: []Dependency{dep("db", ConditionStarted)}},
		{Name: "migrate", Image: "demo:1", Restart: "no", DependsOn: []Dependency{dep("db", ConditionHealthy)}},
	}}
}

var srcFiles = files{"/src/web/": true, "/src/web/Dockerfile": true, "/src/secret": true}

func TestMakeKindsOrderAndStrategies(t *testing.T) {
	plan, err := Make(appStack(), nil, srcFiles)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range plan.Steps {
		got = append(got, st.Service.Name+" "+string(st.Kind)+" "+st.Strategy+" "+string(st.Change))
	}
	want := []string{
		"db stateful stop-then-start new",
		"migrate job run to completion new",
		"web routed rolling new",
		"worker worker start-first new",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestKindOverrideAndJobRule(t *testing.T) {
	p := appStack()
	p.Services[2].Override = Stateful    // worker marked stateful
	p.Services[3].Restart = "on-failure" // still completes: a job
	kinds := map[string]Kind{}
	for i := range p.Services {
		kinds[p.Services[i].Name] = KindOf(p, &p.Services[i])
	}
	want := map[string]Kind{"web": Routed, "db": Stateful, "worker": Stateful, "migrate": Job}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	p.Services[3].Restart = "always"
	if _, err := Make(p, nil, srcFiles); err == nil || !strings.Contains(err.Error(), "waits for migrate to complete, but migrate is a worker") {
		t.Errorf("Make with a restarting job: %v; want an error naming web and migrate", err)
	}
}

func TestMakeRefuses(t *testing.T) {
	at := Pos{File: "compose.yaml", Line: 7, Column: 5}
	cases := []struct {
		name   string
		change func(p *Project)
		want   string
	}{
		{"cycle", func(p *Project) {
			p.Services[1].DependsOn = []Dependency{dep("worker", ConditionStarted)}
			p.Services[2].DependsOn = []Dependency{{Service: "db", Condition: ConditionStarted, Pos: at}}
		}, "compose.yaml:7:5: services.worker.depends_on: cycle: db -> worker -> db"},
		{"same port", func(p *Project) {
			p.Services[2].Ports = []Port{{HostIP: "127.0.0.1", Published: 8080, Pos: at}}
		}, "compose.yaml:7:5: services.worker.ports: port 8080 is already published by service web"},
		{"shared volume", func(p *Project) {
			p.Services[2].Volumes = []Volume{{Named: true, Source: "data", Target: "/x", Pos: at}}
			p.Services[2].Override = Stateful
		}, "compose.yaml:7:5: services.worker.volumes: volume data is already the data of stateful service db"},
		{"no build context", func(p *Project) { p.Services[0].Build = &Build{Context: "/src/nope", Pos: at} },
			"compose.yaml:7:5: services.web.build.context: build context /src/nope does not exist"},
		{"no Dockerfile", func(p *Project) { p.Services[0].Build.Dockerfile = "Other.dockerfile" },
			"services.web.build.dockerfile: Dockerfile /src/web/Other.dockerfile does not exist"},
		{"no secret file", func(p *Project) {
			p.Services[1].Secrets = []Secret{{Name: "pw", File: "/src/nope", Pos: at}}
		}, "compose.yaml:7:5: services.db.secrets.pw: secret file /src/nope does not exist"},
		{"unknown dependency", func(p *Project) { p.Services[2].DependsOn = []Dependency{dep("cache", ConditionStarted)} },
			"services.worker.depends_on.cache: no service cache in the stack"},
		{"no image", func(p *Project) { p.Services[2].Image = "" }, "services.worker: set image or build"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := appStack()
			c.change(p)
			_, err := Make(p, nil, srcFiles)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Make: %v\nwant an error containing %q", err, c.want)
			}
			var fe *spec.FieldError
			var fes spec.Errors
			if !errors.As(err, &fe) && !errors.As(err, &fes) {
				t.Errorf("Make error %T carries no field position", err)
			}
		})
	}
}

func TestMakeComparesWithRunning(t *testing.T) {
	p := appStack()
	p.Services[1].Env = map[string]string{"A": "1", "B": "secret-2"}
	p.Services[2].Env = map[string]string{"A": "1"}
	running := map[string]Running{
		"db":     {Revision: 3, Image: "demo:0", Env: map[string]string{"B": "secret-1", "C": "3"}},
		"worker": {Revision: 1, Image: "demo:1", Env: map[string]string{"A": "1"}},
	}
	plan, err := Make(p, running, srcFiles)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Step{}
	for _, st := range plan.Steps {
		byName[st.Service.Name] = st
	}
	db := byName["db"]
	want := []string{"image demo:0 -> demo:1", "env A added", "env B changed", "env C removed"}
	if db.Change != Changed || !db.Downtime || !cmp.Equal(db.Differences, want) {
		t.Errorf("db step = %s %v downtime %v; want changed %v with downtime", db.Change, db.Differences, db.Downtime, want)
	}
	if strings.Contains(strings.Join(db.Differences, " "), "secret") {
		t.Errorf("differences show an environment value: %v", db.Differences)
	}
	if w := byName["worker"]; w.Change != Unchanged || w.Downtime {
		t.Errorf("worker step = %s downtime %v; want unchanged", w.Change, w.Downtime)
	}
	if m := byName["migrate"]; m.Change != New {
		t.Errorf("migrate step = %s; want new", m.Change)
	}
}

func TestMakeWarns(t *testing.T) {
	p := appStack()
	p.Services[1].Healthcheck = false
	p.Services[2].Volumes = []Volume{{Named: true, Source: "cache", Target: "/c"}}
	p.Services[2].Override = Worker
	plan, err := Make(p, nil, srcFiles)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan.Warnings, "\n")
	for _, w := range []string{
		"service web: depends_on db is service_healthy, but db has no healthcheck",
		"service worker: worker with named volume cache",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}
}

// TestMakeFingerprints: a job completed with its current definition and a worker whose
// running container has its fingerprint are unchanged; a job recorded with another
// definition is changed (it runs again); a stateful service whose containers all exited (an
// interrupted deploy) is changed, whatever its fingerprint was.
func TestMakeFingerprints(t *testing.T) {
	p := appStack()
	migrate, worker := &p.Services[3], &p.Services[2]
	for _, c := range []struct {
		running map[string]Running
		want    map[string]Change
	}{
		{map[string]Running{"migrate": {Fingerprint: Fingerprint(migrate)}, "worker": {Fingerprint: Fingerprint(worker), Instances: []string{"w"}},
			"db": {Instances: []string{"db.0123456789ab.00000000"}, Latest: 2}},
			map[string]Change{"migrate": Unchanged, "worker": Unchanged, "db": Changed}},
		{map[string]Running{"migrate": {Fingerprint: "000000000000"}},
			map[string]Change{"migrate": Changed, "worker": New, "db": New}},
	} {
		plan, err := Make(p, c.running, srcFiles)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range plan.Steps {
			if want, ok := c.want[st.Service.Name]; ok && st.Change != want {
				t.Errorf("%s: %s %v; want %s", st.Service.Name, st.Change, st.Differences, want)
			}
		}
	}
}
