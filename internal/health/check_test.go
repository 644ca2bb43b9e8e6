package health

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/spec"
)

func httpProbe(path, host string, timeout time.Duration) spec.Probe {
	return spec.Probe{HTTP: &spec.HTTPProbe{Path: path, Host: host}, Timeout: spec.Duration(timeout)}
}

func hostPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestCheckHTTPStatus(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("code") {
		case "200":
			w.Write([]byte(strings.Repeat("x", 64<<10))) // more than the probe reads
		case "204":
			w.WriteHeader(http.StatusNoContent)
		case "302":
			http.Redirect(w, r, "/followed", http.StatusFound)
		case "404":
			http.NotFound(w, r)
		case "503":
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/followed", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		http.Error(w, "must not be reached", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path    string
		wantErr string
	}{
		{"/status/200", ""},
		{"/status/204", ""},
		{"/status/302", ""},
		{"status/200", ""}, // a path without its leading slash
		{"/status/404", "GET /status/404: status 404"},
		{"/status/503", "GET /status/503: status 503"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := Check(t.Context(), httpProbe(tt.path, "", time.Second), Target{Addr: hostPort(t, srv)})
			checkErr(t, err, tt.wantErr)
		})
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect was followed %d times, want 0", n)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("err = %v, want nil", err)
	case want != "" && err == nil:
		t.Errorf("err = nil, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("err = %q, want one containing %q", err, want)
	}
}

func TestCheckHTTPRequest(t *testing.T) {
	type seen struct {
		host, path, ua string
		close          bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.URL.RequestURI(), r.UserAgent(), r.Close}
	}))
	defer srv.Close()

	err := Check(t.Context(), httpProbe("/healthz?deep=1", "app.example", time.Second), Target{Addr: hostPort(t, srv)})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	s := <-got
	want := seen{host: "app.example", path: "/healthz?deep=1", ua: "cutover-probe", close: true}
	if s != want {
		t.Errorf("request seen by the instance = %+v, want %+v (close: keep-alives off)", s, want)
	}

	// Without a Host, the instance's address is the Host.
	if err := Check(t.Context(), httpProbe("/", "", time.Second), Target{Addr: hostPort(t, srv)}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if s := <-got; s.host != hostPort(t, srv) {
		t.Errorf("Host = %q, want %q", s.host, hostPort(t, srv))
	}
}

func TestCheckHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	err := Check(t.Context(), httpProbe("/slow", "", 50*time.Millisecond), Target{Addr: hostPort(t, srv)})
	checkErr(t, err, "GET /slow: timeout after 50ms")
}

func TestCheckHTTPUnreachable(t *testing.T) {
	addr := closedAddr(t)
	checkErr(t, Check(t.Context(), httpProbe("/", "", time.Second), Target{Addr: addr}), "GET /: dial tcp")
	checkErr(t, Check(t.Context(), httpProbe("/", "", time.Second), Target{}), "no address")
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp := spec.Probe{TCP: &spec.TCPProbe{}, Timeout: spec.Duration(time.Second)}

	checkErr(t, Check(t.Context(), tcp, Target{Addr: ln.Addr().String()}), "")
	checkErr(t, Check(t.Context(), tcp, Target{Addr: closedAddr(t)}), "connection refused")
	checkErr(t, Check(t.Context(), tcp, Target{}), "no address")
}

func TestCheckNoKind(t *testing.T) {
	checkErr(t, Check(t.Context(), spec.Probe{}, Target{}), "no http, tcp or exec")
}

func TestCheckExec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		argv    []string
		wantErr string
	}{
		{"true", []string{"true"}, ""},
		{"false", []string{"false"}, "exec false: exit status 1"},
		{"output tail", []string{"sh", "-c", "echo starting; echo db down >&2; exit 3"}, "exit status 3: starting\ndb down"},
		{"port visible", []string{"sh", "-c", `test "$PORT" = 4242`}, ""},
		{"env exact", []string{"sh", "-c", `test "$PORT" = 1`}, "exit status 1"},
		{"path inherited", []string{"sh", "-c", "command -v sleep"}, ""},
		{"dir", []string{"sh", "-c", `test "$(pwd)" = "` + dir + `"`}, ""},
		{"missing", []string{"/nonexistent/probe"}, "exec /nonexistent/probe"},
		{"no command", nil, "exec: no command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := spec.Probe{Exec: &spec.ExecProbe{Command: tt.argv}, Timeout: spec.Duration(5 * time.Second)}
			err := Check(t.Context(), p, Target{Env: map[string]string{"PORT": "4242"}, Dir: dir})
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestCheckExecOutputTrimmed(t *testing.T) {
	p := spec.Probe{Exec: &spec.ExecProbe{Command: []string{"sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line$i; i=$((i+1)); done; exit 1"}}}
	err := Check(t.Context(), p, Target{})
	checkErr(t, err, "line399")
	if err != nil && (len(err.Error()) > outputTail+100 || strings.Contains(err.Error(), "line0\n")) {
		t.Errorf("err is %d bytes, want the output's tail of at most %d: %q", len(err.Error()), outputTail, err)
	}
}
