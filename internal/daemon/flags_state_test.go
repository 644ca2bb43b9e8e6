package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// TestFlagsSurviveKill9: flags, their history and SDK tokens written before a SIGKILL are
// all there after a restart, and the token still evaluates.
func TestFlagsSurviveKill9(t *testing.T) {
	state := t.TempDir()
	p := startServe(t, state)
	ctx := context.Background()
	if _, err := p.client.PutFlag(ctx, "ann", boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.SetFlagRollout(ctx, "ann", "f", api.FlagRolloutRequest{To: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.SetFlagEnabled(ctx, "bob", "f", false); err != nil {
		t.Fatal(err)
	}
	tok, err := p.client.CreateSDKToken(ctx, "ann", "web")
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.client.Flag(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p2 := startServe(t, state)
	got, err := p2.client.Flag(ctx, "f")
	if err != nil {
		t.Fatalf("flag after kill -9: %v", err)
	}
	if diff := cmp.Diff(got.Flag, want.Flag); diff != "" {
		t.Errorf("flag after kill -9 (-got +want):\n%s", diff)
	}
	hist, err := p2.client.FlagHistory(ctx, api.FlagHistoryQuery{Key: "f"})
	if err != nil || len(hist) != 3 {
		t.Errorf("history after kill -9: %d records, %v; want 3", len(hist), err)
	}
	addrData, err := os.ReadFile(filepath.Join(state, "api.addr"))
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(string(addrData))
	if got := ofrepStatus(t, addr, tok.Token, "f"); got != http.StatusOK {
		t.Errorf("OFREP with the token after kill -9: %d, want 200", got)
	}
	if err := p2.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p2.cmd.Wait(); err != nil {
		t.Errorf("daemon exit: %v\n%s", err, p2.log)
	}
}

// TestShutdownEndsEventStreams: an open OFREP event stream does not hold the daemon's
// shutdown until the API server's timeout.
func TestShutdownEndsEventStreams(t *testing.T) {
	d, err := New(context.Background(), Options{StateDir: t.TempDir(), Listen: "127.0.0.1:0", Driver: nil,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	c := api.NewClient("http://"+d.Addr(), d.Token())
	waitFor(t, 5*time.Second, "api healthy", func() bool { return c.Health(context.Background()) == nil })
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.Addr()+flags.EventsPath, nil)
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		close(ended)
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("daemon did not stop within 5s with an event stream open")
	}
	select {
	case <-ended:
	case <-time.After(time.Second):
		t.Error("the event stream did not end with the daemon")
	}
}

// TestPutFlagYAMLErrorsPointAtTheUsersLines: errors of a one-flag YAML file carry the
// line and column in that file and paths relative to the flag; nothing is stored.
func TestPutFlagYAMLErrorsPointAtTheUsersLines(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	bad := "type: boolean\nvariants: {on: true, off: false}\ndefault_variant: off\ncolour: blue\n"
	_, err := h.client.PutFlagYAML(ctx, "t", "f", []byte(bad), "f.yaml")
	var ve *api.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("unknown field: %v, want a validation error", err)
	}
	want := []api.FieldError{{Path: "colour", Line: 4, Column: 1, Message: `unknown field "colour"`}}
	if diff := cmp.Diff(ve.Fields, want); diff != "" {
		t.Errorf("fields (-got +want):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "f.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
	if _, err := h.client.Flag(ctx, "f"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("flag after a rejected file: %v, want not found", err)
	}
	good := strings.Replace(bad, "colour: blue\n", "enabled: true\n", 1)
	if f, err := h.client.PutFlagYAML(ctx, "t", "f", []byte(good), "f.yaml"); err != nil || f.Key != "f" || !f.Enabled {
		t.Errorf("good file without a key: %+v, %v", f, err)
	}
	other := "key: g\n" + good
	if _, err := h.client.PutFlagYAML(ctx, "t", "f", []byte(other), ""); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("file for another key: %v, want invalid", err)
	}
}
