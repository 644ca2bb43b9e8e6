package handoff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary act as a successor process (see TestMain).
const childEnv = "HANDOFF_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child is a successor: "serve" answers "child" on the inherited listener "web" and says
// ready; "exit" exits at once; "hang" never says ready; "lock" holds the inherited lock.
func child(mode string) int {
	in, err := Inherit(os.Getenv(Env))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch mode {
	case "exit":
		return 3
	case "hang", "lock":
		time.Sleep(time.Minute)
		return 0
	}
	ln, err := in.Listeners.Listen("web", "127.0.0.1:1") // the address is ignored when inherited
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := in.Ready("v2"); err != nil {
		return 2
	}
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "child") }))
	return 0
}

func startChild(t *testing.T, mode string, lock *os.File, files []NamedFile) *Successor {
	t.Helper()
	s, err := Start(Command{Path: os.Args[0], Args: []string{os.Args[0], "-test.run=^$"},
		Env: append(os.Environ(), childEnv+"="+mode), Stderr: os.Stderr, Lock: lock, Listeners: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(s.PID(), syscall.SIGKILL); _, _ = s.proc.Wait() })
	return s
}

// TestListenerOutlivesParent hands a listener to a child process and closes the parent's:
// the child answers on the same address.
func TestListenerOutlivesParent(t *testing.T) {
	ls := NewListeners()
	ln, err := ls.Listen("web", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	files, err := ls.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "web" {
		t.Fatalf("files: got %v, want one named web", files)
	}
	s := startChild(t, "serve", nil, files)
	CloseFiles(files)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msg, err := s.WaitReady(ctx)
	if err != nil || msg != "v2" {
		t.Fatalf("wait ready: got %q, %v; want v2", msg, err)
	}
	ln.Close()
	if open, err := ls.Files(); err != nil || len(open) != 0 {
		CloseFiles(open)
		t.Errorf("open after close: got %v (%v), want none", open, err)
	}
	resp, err := http.Get("http://" + addr)
	if err != nil {
		t.Fatalf("get after the parent closed its listener: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "child" {
		t.Errorf("answer: got %q, want child", b)
	}
}

func TestWaitReadyFails(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"exit", "exited before it was ready: exit status 3"},
		{"hang", "deadline exceeded"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s := startChild(t, tc.mode, nil, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := s.WaitReady(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("wait ready of a child that does %s: got %v, want %q", tc.mode, err, tc.want)
			}
			// WaitReady reaped the child: it is gone.
			if syscall.Kill(s.PID(), 0) == nil {
				t.Errorf("child %d still exists after a failed WaitReady", s.PID())
			}
		})
	}
}

// TestLockIsExclusiveAndInherited: a second Lock is refused, naming the holder, also while
// only a successor holds the inherited lock; it succeeds once every holder is gone.
func TestLockIsExclusiveAndInherited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	f, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second lock: got %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	s := startChild(t, "lock", f, nil)
	f.Close()
	if _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock while a successor holds it: got %v, want ErrLocked", err)
	}
	_ = syscall.Kill(s.PID(), syscall.SIGKILL)
	_, _ = s.proc.Wait()
	g, err := Lock(path)
	if err != nil {
		t.Fatalf("lock after every holder is gone: %v", err)
	}
	g.Close()
}

func TestInheritRefusesBadValues(t *testing.T) {
	for _, v := range []string{",", "a,,b", "a,a", "ready,ready"} {
		if _, err := Inherit(v); err == nil || !strings.Contains(err.Error(), Env) {
			t.Errorf("Inherit(%q): got %v, want an error naming %s", v, err, Env)
		}
	}
	in, err := Inherit("")
	if err != nil || in.Listeners == nil || in.Lock() != nil {
		t.Fatalf("Inherit(\"\"): got %+v, %v; want nothing inherited", in, err)
	}
	if err := in.Ready("x"); err != nil {
		t.Errorf("Ready with nothing inherited: %v", err)
	}
}

func TestListenRefusesBadNames(t *testing.T) {
	ls := NewListeners()
	ln, err := ls.Listen("a", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, name := range []string{"a", "", "x,y"} {
		if l, err := ls.Listen(name, "127.0.0.1:0"); err == nil {
			l.Close()
			t.Errorf("Listen(%q): no error", name)
		}
	}
	if _, err := Start(Command{Path: "/bin/true", Args: []string{"true"}, Listeners: []NamedFile{{Name: "ready"}}}); err == nil {
		t.Error("Start with a listener named ready: no error")
	}
}

// TestStartKeepsListenerNonBlocking: passing a listener to a successor that dies must leave
// this process's listener working; a socket switched to blocking mode would leave Accept
// stuck in the kernel and Close waiting for it.
func TestStartKeepsListenerNonBlocking(t *testing.T) {
	ls := NewListeners()
	ln, err := ls.Listen("web", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	files, err := ls.Files()
	if err != nil {
		t.Fatal(err)
	}
	s := startChild(t, "exit", nil, files)
	CloseFiles(files)
	if _, err := s.WaitReady(context.Background()); err == nil {
		t.Fatal("a child that exits was ready")
	}
	closed := make(chan struct{})
	go func() { ln.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close of the listener blocked after a hand-off attempt: the socket was left in blocking mode")
	}
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: got %v, want net.ErrClosed", err)
	}
}

// TestNotify reads what Notify sends on a real unixgram socket, as systemd would.
func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in, _ := Inherit("")
	in.NotifySocket = path
	if err := in.NotifyMainPID(42); err != nil {
		t.Fatal(err)
	}
	if err := in.NotifyReady(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	for _, want := range []string{"MAINPID=42", fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid())} {
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("notification: got %q, %v; want %q", buf[:n], err, want)
		}
	}
	if err := Notify("", "READY=1"); err != nil {
		t.Errorf("Notify without a socket: %v", err)
	}
}
