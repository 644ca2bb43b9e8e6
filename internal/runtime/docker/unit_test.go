package docker

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/runtime"
)

func TestCreateRequest(t *testing.T) {
	spec := runtime.InstanceSpec{ID: "web-3-ab", Service: "web", Revision: 3, Image: "app:1",
		Env: map[string]string{"B": "2", "A": "1", "PORT": "9999"}, Dir: "/srv", StopGrace: 1500 * time.Millisecond}
	grace := 2
	labels := map[string]string{LabelService: "web", LabelRevision: "3", LabelInstance: "web-3-ab",
		LabelOwner: "/var/lib/cutover", LabelStopGrace: "1.5s", LabelPort: "8080"}
	cases := []struct {
		name   string
		opts   Options
		mutate func(*runtime.InstanceSpec)
		want   createRequest
	}{
		{
			name: "image command, published port, limits",
			opts: Options{Owner: "/var/lib/cutover", User: "1000:1000", MemoryBytes: 64 << 20, NanoCPUs: 5e8, ReadOnlyRootFS: true},
			want: createRequest{
				config: &container.Config{Image: "app:1", Env: []string{"A=1", "B=2", "PORT=8080"}, User: "1000:1000",
					WorkingDir: "/srv", StopSignal: "SIGTERM", StopTimeout: &grace, Labels: labels,
					ExposedPorts: nat.PortSet{"8080/tcp": {}}},
				host: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"},
					ReadonlyRootfs: true, Resources: container.Resources{Memory: 64 << 20, NanoCPUs: 5e8},
					PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1"}}}},
			},
		},
		{
			name:   "spec command and port, user network",
			opts:   Options{Owner: "/var/lib/cutover", Network: "apps"},
			mutate: func(s *runtime.InstanceSpec) { s.Command, s.Args, s.Port = "/bin/app", []string{"-v"}, 3000 },
			want: createRequest{
				config: &container.Config{Image: "app:1", Env: []string{"A=1", "B=2", "PORT=3000"},
					WorkingDir: "/srv", StopSignal: "SIGTERM", StopTimeout: &grace,
					Labels:     withLabel(labels, LabelPort, "3000"),
					Entrypoint: []string{"/bin/app"}, Cmd: []string{"-v"}, ExposedPorts: nat.PortSet{"3000/tcp": {}}},
				host:    &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}, NetworkMode: "apps"},
				network: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"apps": {}}},
			},
		},
		{
			name:   "args only keep the image's entrypoint",
			opts:   Options{Owner: "/var/lib/cutover", RestartPolicy: "on-failure"},
			mutate: func(s *runtime.InstanceSpec) { s.Args = []string{"serve"} },
			want: createRequest{
				config: &container.Config{Image: "app:1", Env: []string{"A=1", "B=2", "PORT=8080"},
					WorkingDir: "/srv", StopSignal: "SIGTERM", StopTimeout: &grace, Labels: labels,
					Cmd: []string{"serve"}, ExposedPorts: nat.PortSet{"8080/tcp": {}}},
				host: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "on-failure"},
					PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1"}}}},
			},
		},
		{
			name: "per-instance container options win over the driver's",
			opts: Options{Owner: "/var/lib/cutover", User: "1000", MemoryBytes: 64 << 20},
			mutate: func(s *runtime.InstanceSpec) {
				s.Container = &runtime.ContainerOptions{User: "2000:2000", MemoryBytes: 128 << 20, NanoCPUs: 25e7,
					ReadOnlyRootFS: true, Healthcheck: &runtime.Healthcheck{Test: []string{"CMD", "/healthprobe"},
						Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, Retries: 4}}
			},
			want: createRequest{
				config: &container.Config{Image: "app:1", Env: []string{"A=1", "B=2", "PORT=8080"}, User: "2000:2000",
					WorkingDir: "/srv", StopSignal: "SIGTERM", StopTimeout: &grace, Labels: labels,
					ExposedPorts: nat.PortSet{"8080/tcp": {}},
					Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/healthprobe"}, Interval: time.Second,
						Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, Retries: 4}},
				host: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"},
					ReadonlyRootfs: true, Resources: container.Resources{Memory: 128 << 20, NanoCPUs: 25e7},
					PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1"}}}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec
			if c.mutate != nil {
				c.mutate(&s)
			}
			got := c.opts.withDefaults().createRequest(s)
			if d := cmp.Diff(got, c.want, cmp.AllowUnexported(createRequest{})); d != "" {
				t.Errorf("createRequest(%s) (-got +want):\n%s", c.name, d)
			}
		})
	}
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range m {
		if key != k {
			out[key] = val
		}
	}
	return out
}

func TestGraceSeconds(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want int
	}{{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {10 * time.Second, 10}} {
		if got := graceSeconds(c.in); got != c.want {
			t.Errorf("graceSeconds(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	labels := map[string]string{LabelService: "web", LabelRevision: "2", LabelInstance: "web-2-x", LabelPort: "8080"}
	started := "2026-01-02T03:04:05.123456789Z"
	startedAt := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	base := runtime.Status{ID: "web-2-x", Service: "web", Revision: 2, Restarts: 4}
	inspect := func(s container.State, ports nat.PortMap) container.InspectResponse {
		return container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{RestartCount: 4, State: &s, HostConfig: &container.HostConfig{}},
			Config:            &container.Config{Labels: labels},
			NetworkSettings:   &container.NetworkSettings{NetworkSettingsBase: container.NetworkSettingsBase{Ports: ports}},
		}
	}
	published := nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: "49153"}}}
	with := func(f func(*runtime.Status)) runtime.Status { s := base; f(&s); return s }
	cases := []struct {
		name      string
		c         container.InspectResponse
		crashLoop bool
		stopping  bool
		want      runtime.Status
	}{
		{"running healthy", inspect(container.State{Status: "running", Running: true, Pid: 42, StartedAt: started,
			Health: &container.Health{Status: container.Healthy}}, published), false, false,
			with(func(s *runtime.Status) {
				s.State, s.PID, s.StartedAt, s.Addr, s.Health = runtime.StateRunning, 42, startedAt, "127.0.0.1:49153", runtime.HealthHealthy
			})},
		{"running on 0.0.0.0 without healthcheck", inspect(container.State{Status: "running", Running: true, StartedAt: started,
			Health: &container.Health{Status: container.NoHealthcheck}},
			nat.PortMap{"8080/tcp": {{HostIP: "0.0.0.0", HostPort: "5000"}}}), false, false,
			with(func(s *runtime.Status) {
				s.State, s.StartedAt, s.Addr = runtime.StateRunning, startedAt, "127.0.0.1:5000"
			})},
		{"restarting", inspect(container.State{Status: "restarting", Running: true, Restarting: true, ExitCode: 3, StartedAt: started}, nil), false, false,
			with(func(s *runtime.Status) {
				s.State, s.ExitCode, s.StartedAt, s.Message = runtime.StateRestarting, 3, startedAt, "exit status 3"
			})},
		{"crash loop", inspect(container.State{Status: "restarting", Running: true, Restarting: true, ExitCode: 137, OOMKilled: true}, nil), true, false,
			with(func(s *runtime.Status) {
				s.State, s.ExitCode, s.Message = runtime.StateCrashLoop, 137, "exit status 137 (out of memory)"
			})},
		{"stopping", inspect(container.State{Status: "running", Running: true, StartedAt: started}, published), false, true,
			with(func(s *runtime.Status) {
				s.State, s.StartedAt, s.Addr = runtime.StateStopping, startedAt, "127.0.0.1:49153"
			})},
		{"created", inspect(container.State{Status: "created", StartedAt: "0001-01-01T00:00:00Z"}, nil), false, false,
			with(func(s *runtime.Status) { s.State = runtime.StateStarting })},
		{"exited with error", inspect(container.State{Status: "exited", ExitCode: 127, Error: "exec: not found", StartedAt: started}, published), false, false,
			with(func(s *runtime.Status) {
				s.State, s.ExitCode, s.StartedAt, s.Message = runtime.StateExited, 127, startedAt, "exit status 127: exec: not found"
			})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if d := cmp.Diff(statusOf(c.c, c.crashLoop, c.stopping), c.want); d != "" {
				t.Errorf("statusOf(%s) (-got +want):\n%s", c.name, d)
			}
		})
	}
}

func TestRestartHistory(t *testing.T) {
	o := Options{}.withDefaults() // 3 restarts within 60s; stable after 10s
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		obs  restartObservation
		now  time.Duration
		loop bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"three quick restarts loop", []step{
			{restartObservation{count: 0}, 0, false},
			{restartObservation{count: 1, restarting: true}, time.Second, false},
			{restartObservation{count: 2, restarting: true}, 2 * time.Second, false},
			{restartObservation{count: 3, restarting: true}, 3 * time.Second, true},
		}},
		{"restarts spread over minutes do not", []step{
			{restartObservation{count: 0}, 0, false},
			{restartObservation{count: 1}, time.Minute, false},
			{restartObservation{count: 2}, 2 * time.Minute, false},
			{restartObservation{count: 3, restarting: true}, 3 * time.Minute, false},
		}},
		{"several restarts between two looks count", []step{
			{restartObservation{count: 1}, 0, false},
			{restartObservation{count: 4, restarting: true}, 5 * time.Second, true},
			{restartObservation{count: 4}, 70 * time.Second, false},
		}},
		{"manual restart starts over", []step{
			{restartObservation{count: 0}, 0, false},
			{restartObservation{count: 3, restarting: true}, time.Second, true},
			{restartObservation{count: 0}, 2 * time.Second, false},
			{restartObservation{count: 1, restarting: true}, 3 * time.Second, false},
		}},
		{"first look in a crash loop remembers it", []step{
			{restartObservation{count: 7, restarting: true, startedAt: at(-3 * time.Second), finishedAt: at(-2 * time.Second)}, 0, true},
		}},
		{"first look after a long run does not", []step{
			{restartObservation{count: 7, restarting: true, startedAt: at(-time.Hour), finishedAt: at(-time.Second)}, 0, false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h restartHistory
			for i, s := range c.steps {
				h = h.observe(o, s.obs, at(s.now))
				if got := h.crashLooping(o); got != s.loop {
					t.Errorf("step %d (%+v at %s): crash loop %v, want %v", i, s.obs, s.now, got, s.loop)
				}
			}
		})
	}
}

// Probes reach the container on its network: the address on its network mode's network,
// else on the first network with an address; nothing while none has one.
func TestContainerAddress(t *testing.T) {
	c := func(mode string, nets map[string]string) container.InspectResponse {
		eps := map[string]*network.EndpointSettings{}
		for name, ip := range nets {
			eps[name] = &network.EndpointSettings{IPAddress: ip}
		}
		return container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(mode)}},
			Config:            &container.Config{Labels: map[string]string{LabelPort: "8080"}},
			NetworkSettings:   &container.NetworkSettings{Networks: eps},
		}
	}
	cases := []struct {
		name string
		c    container.InspectResponse
		want string
	}{
		{"default bridge", c("default", map[string]string{"bridge": "172.17.0.5"}), "172.17.0.5:8080"},
		{"network mode first", c("app", map[string]string{"a": "10.0.0.2", "app": "10.1.0.3"}), "10.1.0.3:8080"},
		{"no address yet", c("default", map[string]string{"bridge": ""}), ""},
		{"no networks", container.InspectResponse{Config: &container.Config{Labels: map[string]string{LabelPort: "8080"}}}, ""},
	}
	for _, tc := range cases {
		if got := containerAddress(tc.c); got != tc.want {
			t.Errorf("%s: containerAddress = %q, want %q", tc.name, got, tc.want)
		}
	}
}
