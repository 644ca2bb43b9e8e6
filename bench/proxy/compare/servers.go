package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// bodySize is the upstream's response body, checked on every target before measuring.
const bodySize = 1024

// target is one way of reaching the upstreams: directly or through one proxy.
type target struct {
	name string
	port int
	proc *proc // the proxy; nil for direct
	pids []int // whose CPU and RSS are measured
}

// bench holds the running upstreams and proxies.
type bench struct {
	o         options
	log       io.Writer
	upstreams []*proc
	upAddrs   []string
	targets   []*target
	skipped   map[string]string // target → why it is left out
	versions  map[string]string
}

// start starts the upstreams and every proxy asked for, waiting until each answers.
func (b *bench) start(ctx context.Context) error {
	b.skipped = map[string]string{}
	b.versions = toolVersions(ctx)
	for i := range b.o.upstreams {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		p, err := startProc(b.o.workDir, fmt.Sprintf("upstream-%d", i+1), nil, filepath.Join(b.o.binDir, "upstream"), "-addr", addr)
		if err != nil {
			return err
		}
		b.upstreams = append(b.upstreams, p)
		b.upAddrs = append(b.upAddrs, addr)
		if err := waitReady(ctx, p, "http://"+addr+"/", bodySize); err != nil {
			return err
		}
	}
	for _, name := range b.o.only {
		t, err := b.startTarget(ctx, name)
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		if t != nil {
			b.targets = append(b.targets, t)
			fmt.Fprintf(b.log, "compare: %s ready on 127.0.0.1:%d (pids %v)\n", t.name, t.port, t.pids)
		}
	}
	return nil
}

// startTarget starts one proxy (or none for direct). It returns nil, nil when the proxy's
// program is missing and the proxy is optional (Caddy).
func (b *bench) startTarget(ctx context.Context, name string) (*target, error) {
	if name == "direct" {
		// wrk takes one address, so direct load goes to the first upstream; its CPU and RSS
		// are the upstreams'.
		var pids []int
		for _, u := range b.upstreams {
			pids = append(pids, u.cmd.Process.Pid)
		}
		return &target{name: name, port: portOf(b.upAddrs[0]), pids: pids}, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var p *proc
	switch name {
	case "cutover":
		p, err = b.startCutover(port, "cutover", "")
	case "cutover-base":
		// The harness built from an earlier revision (run.sh --base REV), for a before/after
		// comparison in one sitting.
		if _, serr := os.Stat(filepath.Join(b.o.binDir, "cutoverproxy-base")); serr != nil {
			b.skipped[name] = "no cutoverproxy-base binary (run.sh --base REV builds it)"
			return nil, nil
		}
		args := []string{"-listen", fmt.Sprintf("127.0.0.1:%d", port), "-targets", strings.Join(b.upAddrs, ","), "-balance", "round_robin"}
		p, err = startProc(b.o.workDir, name, nil, filepath.Join(b.o.binDir, "cutoverproxy-base"), args...)
	case "nginx":
		p, err = b.startNginx(port)
	case "haproxy":
		p, err = b.startHAProxy(port)
	case "caddy":
		if _, lerr := exec.LookPath("caddy"); lerr != nil {
			b.skipped[name] = "caddy is not installed (see run.sh's install output)"
			return nil, nil
		}
		p, err = b.startCaddy(port)
	default:
		return nil, fmt.Errorf("unknown target %q", name)
	}
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", port), bodySize); err != nil {
		p.stop()
		return nil, err
	}
	return &target{name: name, port: port, proc: p, pids: tree(p.cmd.Process.Pid)}, nil
}

func portOf(addr string) int {
	var port int
	_, _ = fmt.Sscanf(addr[strings.LastIndexByte(addr, ':')+1:], "%d", &port)
	return port
}

// startCutover runs cutover's proxy package through the harness, round robin like the others.
func (b *bench) startCutover(port int, name, cpuProfile string) (*proc, error) {
	args := []string{"-listen", fmt.Sprintf("127.0.0.1:%d", port), "-targets", strings.Join(b.upAddrs, ","), "-balance", "round_robin"}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	return startProc(b.o.workDir, name, nil, filepath.Join(b.o.binDir, "cutoverproxy"), args...)
}

// startNginx runs nginx in the foreground: 2 workers, upstream keep-alive pool, no access log,
// the same forwarded headers and request id as cutover.
func (b *bench) startNginx(port int) (*proc, error) {
	dir := filepath.Join(b.o.workDir, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("nginx dir: %w", err)
	}
	var servers strings.Builder
	for _, a := range b.upAddrs {
		fmt.Fprintf(&servers, "    server %s;\n", a)
	}
	conf := fmt.Sprintf(nginxConf, dir, dir, dir, dir, dir, dir, dir, servers.String(), port)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("nginx config: %w", err)
	}
	return startProc(b.o.workDir, "nginx", nil, "nginx", "-p", dir, "-c", path, "-g", "daemon off;")
}

const nginxConf = `worker_processes 2;
pid %s/nginx.pid;
error_log %s/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %s/tmp/body;
  proxy_temp_path %s/tmp/proxy;
  fastcgi_temp_path %s/tmp/fastcgi;
  uwsgi_temp_path %s/tmp/uwsgi;
  scgi_temp_path %s/tmp/scgi;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream backend {
%s    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 90s;
  }
  server {
    listen 127.0.0.1:%d;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
    }
  }
}
`

// startHAProxy runs HAProxy in the foreground: 2 threads, connection reuse to the servers, no
// log, the same forwarded headers and request id as cutover.
func (b *bench) startHAProxy(port int) (*proc, error) {
	var servers strings.Builder
	for i, a := range b.upAddrs {
		fmt.Fprintf(&servers, "  server u%d %s\n", i+1, a)
	}
	conf := fmt.Sprintf(haproxyConf, port, servers.String())
	path := filepath.Join(b.o.workDir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("haproxy config: %w", err)
	}
	return startProc(b.o.workDir, "haproxy", nil, "haproxy", "-db", "-f", path)
}

const haproxyConf = `global
  nbthread 2
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 30s
  timeout http-keep-alive 120s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:%d
  unique-id-format %%{+X}o%%ci%%cp%%fp%%Ts%%rt%%pid
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %%[req.hdr(host)]
  http-request set-header X-Request-Id %%[unique-id]
  http-response set-header X-Request-Id %%[unique-id]
  default_backend be
backend be
  balance roundrobin
%s`

// startCaddy runs Caddy with a Caddyfile: HTTP/1.1 only, no admin endpoint, no access log
// (Caddy logs none unless asked), upstream keep-alive pool like cutover's, request id.
func (b *bench) startCaddy(port int) (*proc, error) {
	conf := fmt.Sprintf(caddyConf, port, strings.Join(b.upAddrs, " "))
	path := filepath.Join(b.o.workDir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("caddy config: %w", err)
	}
	env := []string{"XDG_DATA_HOME=" + b.o.workDir, "XDG_CONFIG_HOME=" + b.o.workDir}
	return startProc(b.o.workDir, "caddy", env, "caddy", "run", "--config", path, "--adapter", "caddyfile")
}

const caddyConf = `{
  admin off
  auto_https off
  servers {
    protocols h1
  }
}
http://127.0.0.1:%d {
  bind 127.0.0.1
  header X-Request-Id {http.request.uuid}
  reverse_proxy %s {
    lb_policy round_robin
    header_up X-Request-Id {http.request.uuid}
    transport http {
      keepalive 90s
      keepalive_idle_conns_per_host 256
    }
  }
}
`

// stopAll stops the proxies, then the upstreams.
func (b *bench) stopAll() {
	for _, t := range b.targets {
		if t.proc != nil {
			t.proc.stop()
		}
	}
	for _, u := range slices.Backward(b.upstreams) {
		u.stop()
	}
}
