package app

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is the demo app's whole behaviour, read from the environment once at start.
type config struct {
	Addr            string        // LISTEN_HOST (default 127.0.0.1) and PORT; LISTEN_ADDR overrides both
	Version         string        // VERSION, default "dev"
	Instance        string        // INSTANCE, default hostname-pid
	NeverReady      bool          // NEVER_READY=1: /healthz always 503
	ReadyAfter      time.Duration // READY_AFTER: /healthz 503 until this long after start
	ErrorPPM        int64         // ERROR_RATE as parts per million
	ErrorPath       string        // PATH_ERROR_RATE="/prefix=rate": requests under /prefix fail at rate instead
	PathErrorPPM    int64
	Latency         time.Duration // LATENCY added to every non-health request
	LatencyJitter   time.Duration // LATENCY_JITTER: extra uniform [0, jitter)
	LatencySigma    float64       // LATENCY_SIGMA: LATENCY is the median of a log-normal with this spread
	StartupDelay    time.Duration // STARTUP_DELAY before listening
	ExitAfter       time.Duration // EXIT_AFTER: exit with ExitCode this long after listening
	ExitCode        int           // EXIT_CODE, default 1
	IgnoreSIGTERM   bool          // IGNORE_SIGTERM=1
	ShutdownDelay   time.Duration // SHUTDOWN_DELAY: keep serving (health 503) after SIGTERM
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT for http.Server.Shutdown, default 10s
	DB              dbConfig      // DATABASE_URL, DB_DRIVER, DEMO_DB_SCHEMA: see db_config.go
}

// loadConfig reads the environment through getenv and reports every bad variable at once.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Version:         getenv("VERSION"),
		Instance:        getenv("INSTANCE"),
		NeverReady:      getenv("NEVER_READY") == "1",
		IgnoreSIGTERM:   getenv("IGNORE_SIGTERM") == "1",
		ExitCode:        1,
		ShutdownTimeout: 10 * time.Second,
	}
	var errs []error
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	c.Addr = getenv("LISTEN_ADDR")
	if c.Addr == "" {
		port := getenv("PORT")
		if port == "" {
			errs = append(errs, errors.New("PORT is required (or LISTEN_ADDR)"))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("PORT %q: not a port number", port))
		}
		// Loopback unless told otherwise: an app behind cutover's proxy needs no other
		// interface, and a container sets LISTEN_HOST=0.0.0.0 for its published port.
		host := getenv("LISTEN_HOST")
		if host == "" {
			host = "127.0.0.1"
		}
		c.Addr = net.JoinHostPort(host, port)
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"READY_AFTER", &c.ReadyAfter},
		{"LATENCY", &c.Latency},
		{"LATENCY_JITTER", &c.LatencyJitter},
		{"STARTUP_DELAY", &c.StartupDelay},
		{"EXIT_AFTER", &c.ExitAfter},
		{"SHUTDOWN_DELAY", &c.ShutdownDelay},
		{"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout},
	}
	for _, d := range durations {
		if err := parseDuration(getenv(d.name), d.dst); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
		}
	}
	if v := getenv("ERROR_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			errs = append(errs, fmt.Errorf("ERROR_RATE %q: want a number from 0 to 1", v))
		}
		c.ErrorPPM = int64(math.Round(f * 1e6))
	}
	if v := getenv("PATH_ERROR_RATE"); v != "" {
		path, rate, _ := strings.Cut(v, "=")
		f, err := strconv.ParseFloat(rate, 64)
		if err != nil || f < 0 || f > 1 || !strings.HasPrefix(path, "/") {
			errs = append(errs, fmt.Errorf("PATH_ERROR_RATE %q: want /prefix=rate, the rate from 0 to 1", v))
		}
		c.ErrorPath, c.PathErrorPPM = path, int64(math.Round(f*1e6))
	}
	if v := getenv("LATENCY_SIGMA"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 5) {
			errs = append(errs, fmt.Errorf("LATENCY_SIGMA %q: want a number from 0 to 5", v))
		}
		c.LatencySigma = f
	}
	if v := getenv("EXIT_CODE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			errs = append(errs, fmt.Errorf("EXIT_CODE %q: want 0..255", v))
		}
		c.ExitCode = n
	}
	db, dbErrs := loadDBConfig(getenv)
	c.DB = db
	errs = append(errs, dbErrs...)
	return c, errors.Join(errs...)
}

// parseDuration sets *dst from s unless s is empty; negative durations are refused.
func parseDuration(s string, dst *time.Duration) error {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	*dst = d
	return nil
}
