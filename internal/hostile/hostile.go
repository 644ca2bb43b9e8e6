// Package hostile sends the traffic of a hostile or broken HTTP/1.1 client over raw sockets:
// ambiguous framing, bare LFs, bad chunks, bodies cut, stalled or half-closed, oversize or
// folded headers, garbage. Tests use it beside normal traffic to show that no client can make
// an app look as if it failed (an error of its revision, an ejected instance, a canary rolled
// back). It sends only to the address it is given and only as many attacks as it is told.
package hostile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Ending is how the client ends an attack.
type Ending uint8

const (
	// ReadAnswer waits for the answer.
	ReadAnswer Ending = iota
	// CloseAtOnce closes the connection after its last byte, answer or not.
	CloseAtOnce
	// HalfClose closes the client's write side, then reads what comes.
	HalfClose
)

// Attack is one hostile exchange on its own connection: First is sent at once, Then (when not
// nil) after Pause, and the client ends as End says.
type Attack struct {
	Kind        string
	First, Then []byte
	Pause       time.Duration
	End         Ending
}

// Target is where attacks go: the request target (path) and Host header they use, and Stall,
// how long a stalled body stalls (default 1.5s, past the proxy's default ClientStall).
type Target struct {
	Host, Path string
	Stall      time.Duration
}

// late is the pause before the part of an attack meant to arrive after the upstream has the
// request's head.
const late = 50 * time.Millisecond

// makers builds each kind of attack; rng picks its details.
var makers = map[string]func(rng *rand.Rand, t Target) Attack{
	"bare-lf-chunked":     bareLFChunked,
	"late-bare-lf":        lateBareLF,
	"bad-chunk-size":      badChunkSize,
	"late-bad-chunk":      lateBadChunk,
	"bad-trailer":         badTrailer,
	"cl-and-te":           clAndTE,
	"duplicate-cl":        duplicateCL,
	"te-on-http10":        teOnHTTP10,
	"unknown-te":          unknownTE,
	"obs-fold":            obsFold,
	"bare-lf-head":        bareLFHead,
	"bare-cr":             bareCR,
	"bad-content-length":  badContentLength,
	"huge-content-length": hugeContentLength,
	"body-cut":            bodyCut,
	"chunked-body-cut":    chunkedBodyCut,
	"body-stalled":        bodyStalled,
	"body-stalled-cut":    bodyStalledCut,
	"body-half-closed":    bodyHalfClosed,
	"gone-before-answer":  goneBeforeAnswer,
	"head-cut":            headCut,
	"oversize-header":     oversizeHeader,
	"garbage":             garbage,
	"connect":             connect,
	"h2c-upgrade":         h2cUpgrade,
}

// Kinds names every kind of attack, sorted.
var Kinds = func() []string {
	k := make([]string, 0, len(makers))
	for name := range makers {
		k = append(k, name)
	}
	slices.Sort(k)
	return k
}()

// Make returns an attack of the given kind on t, its details drawn from rng. It panics on a
// kind not in Kinds.
func Make(kind string, rng *rand.Rand, t Target) Attack {
	m, ok := makers[kind]
	if !ok {
		panic("hostile: unknown kind " + kind)
	}
	if t.Stall == 0 {
		t.Stall = 1500 * time.Millisecond
	}
	a := m(rng, t)
	a.Kind = kind
	return a
}

// NewRand returns the random source Run draws its attacks from for seed.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Result is what one attack got: the answer's status, 0 when none came.
type Result struct {
	Kind   string
	Status int
}

// Send plays a on a new connection to addr and returns what it got, giving up once ctx is
// done or timeout has passed.
func Send(ctx context.Context, addr string, a Attack, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := Result{Kind: a.Kind}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return res
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	_, _ = c.Write(a.First) // the server may refuse and close before the end
	if a.Then != nil {
		t := time.NewTimer(a.Pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res
		}
		_, _ = c.Write(a.Then)
	}
	switch a.End {
	case CloseAtOnce:
		return res
	case HalfClose:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	res.Status = resp.StatusCode
	return res
}

// Config is one run of random attacks.
type Config struct {
	Addr   string
	Target Target
	Seed   uint64
	// N attacks, at most Workers at a time (default 4); each gives up after Timeout
	// (default 10s). Kinds are taken in turn from Kinds, so every kind is sent when N is at
	// least len(Kinds); their details are random.
	N, Workers int
	Timeout    time.Duration
}

// Tally counts a run's attacks by kind and its answers by status (0: no answer).
type Tally struct {
	Sent     int
	ByKind   map[string]int
	ByStatus map[int]int
}

func (t Tally) String() string {
	statuses := make([]int, 0, len(t.ByStatus))
	for s := range t.ByStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	var b strings.Builder
	fmt.Fprintf(&b, "%d attacks of %d kinds; answers:", t.Sent, len(t.ByKind))
	for _, s := range statuses {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "none"
		}
		fmt.Fprintf(&b, " %s:%d", name, t.ByStatus[s])
	}
	return b.String()
}

// Run sends cfg.N attacks to cfg.Addr and returns their tally, or what it sent when ctx ends
// first.
func Run(ctx context.Context, cfg Config) Tally {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	rng := NewRand(cfg.Seed)
	attacks := make(chan Attack)
	results := make(chan Result)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for a := range attacks {
				results <- Send(ctx, cfg.Addr, a, cfg.Timeout)
			}
		})
	}
	go func() {
		defer close(attacks)
		for i := range cfg.N {
			a := Make(Kinds[i%len(Kinds)], rng, cfg.Target)
			select {
			case attacks <- a:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	t := Tally{ByKind: map[string]int{}, ByStatus: map[int]int{}}
	for r := range results {
		t.Sent++
		t.ByKind[r.Kind]++
		t.ByStatus[r.Status]++
	}
	return t
}
