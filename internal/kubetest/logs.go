package kubetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// serveLogs answers the apiserver's /containerLogs/NS/POD/CONTAINER requests (kubectl logs,
// with follow) over TLS with a self-signed certificate, as a kubelet's port does.
func (k *Kubelet) serveLogs(ctx context.Context, ln net.Listener) error {
	if err := writeSelfSigned(k.Dir, "kubelet-serving", k.Node); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(k.Dir, "kubelet-serving.crt"), filepath.Join(k.Dir, "kubelet-serving.key"))
	if err != nil {
		return fmt.Errorf("kubelet: serving certificate: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.containerLogs)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}

func (k *Kubelet) containerLogs(w http.ResponseWriter, req *http.Request) {
	r := k.byName(req.PathValue("ns"), req.PathValue("pod"))
	if r == nil {
		http.Error(w, "pod not found on this node", http.StatusNotFound)
		return
	}
	f, err := os.Open(r.log)
	if os.IsNotExist(err) && req.URL.Query().Get("follow") != "true" {
		return
	}
	if err != nil && !os.IsNotExist(err) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if req.URL.Query().Get("follow") != "true" {
		defer f.Close()
		_, _ = io.Copy(w, f)
		return
	}
	k.follow(req.Context(), w, r, f)
}

// follow copies the log as it grows until the pod's last process is gone or ctx ends.
func (k *Kubelet) follow(ctx context.Context, w http.ResponseWriter, r *podRun, f *os.File) {
	fl, _ := w.(http.Flusher)
	for {
		if f == nil {
			f, _ = os.Open(r.log)
		}
		if f != nil {
			if _, err := io.Copy(w, f); err != nil && !strings.Contains(err.Error(), "EOF") {
				break
			}
			if fl != nil {
				fl.Flush()
			}
		}
		select {
		case <-ctx.Done():
		case <-r.done:
			if f != nil {
				_, _ = io.Copy(w, f)
			}
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	if f != nil {
		f.Close()
	}
}
