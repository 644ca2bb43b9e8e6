package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(c config) string
		wantErr string
	}{
		{
			name: "defaults",
			env:  map[string]string{"PORT": "8080"},
			check: func(c config) string {
				return cmp.Diff(
					[]any{c.Addr, c.Version, c.ExitCode, c.ShutdownTimeout, c.ErrorPPM},
					[]any{"127.0.0.1:8080", "dev", 1, 10 * time.Second, int64(0)})
			},
		},
		{
			name: "all set",
			env: map[string]string{
				"LISTEN_ADDR": "127.0.0.1:9", "VERSION": "v2", "INSTANCE": "i1", "NEVER_READY": "1",
				"READY_AFTER": "1s", "ERROR_RATE": "0.05", "LATENCY": "5ms", "EXIT_AFTER": "3s",
				"EXIT_CODE": "7", "IGNORE_SIGTERM": "1", "SHUTDOWN_DELAY": "2s",
			},
			check: func(c config) string {
				return cmp.Diff(
					[]any{c.Addr, c.Version, c.Instance, c.NeverReady, c.ReadyAfter, c.ErrorPPM,
						c.Latency, c.ExitAfter, c.ExitCode, c.IgnoreSIGTERM, c.ShutdownDelay},
					[]any{"127.0.0.1:9", "v2", "i1", true, time.Second, int64(50000),
						5 * time.Millisecond, 3 * time.Second, 7, true, 2 * time.Second})
			},
		},
		{name: "no port", env: map[string]string{}, wantErr: "PORT is required"},
		{name: "bad port", env: map[string]string{"PORT": "http"}, wantErr: `PORT "http"`},
		{name: "bad duration", env: map[string]string{"PORT": "1", "LATENCY": "5"}, wantErr: "LATENCY"},
		{name: "negative duration", env: map[string]string{"PORT": "1", "READY_AFTER": "-1s"}, wantErr: "negative"},
		{name: "rate above 1", env: map[string]string{"PORT": "1", "ERROR_RATE": "1.5"}, wantErr: "ERROR_RATE"},
		{name: "bad latency sigma", env: map[string]string{"PORT": "1", "LATENCY_SIGMA": "-1"}, wantErr: "LATENCY_SIGMA"},
		{name: "bad path error rate", env: map[string]string{"PORT": "1", "PATH_ERROR_RATE": "checkout=2"}, wantErr: "PATH_ERROR_RATE"},
		{name: "bad exit code", env: map[string]string{"PORT": "1", "EXIT_CODE": "x"}, wantErr: "EXIT_CODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(envFunc(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadConfig(%v) error = %v, want it to contain %q", tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig(%v): %v", tt.env, err)
			}
			if d := tt.check(c); d != "" {
				t.Errorf("loadConfig(%v) (-got +want):\n%s", tt.env, d)
			}
		})
	}
}

func TestFailNthIsExact(t *testing.T) {
	for _, tt := range []struct {
		ppm  int64
		n    int64
		want int64
	}{
		{ppm: 50000, n: 100, want: 5},
		{ppm: 50000, n: 1000, want: 50},
		{ppm: 290000, n: 100, want: 29},
		{ppm: 1e6, n: 10, want: 10},
		{ppm: 0, n: 1000, want: 0},
		{ppm: 1, n: 999999, want: 0},
	} {
		var got int64
		for i := int64(1); i <= tt.n; i++ {
			if failNth(i, tt.ppm) {
				got++
			}
		}
		if got != tt.want {
			t.Errorf("failures in %d requests at %d ppm = %d, want %d", tt.n, tt.ppm, got, tt.want)
		}
	}
}
