package userload

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// maxErrors is how many failure messages a report keeps.
const maxErrors = 20

// Report is the outcome of a run.
type Report struct {
	Tasks    int // scheduled tasks, dropped ones included
	Dropped  int // tasks not sent because every worker was busy
	Requests int // requests sent
	// Failed counts failed requests by "METHOD kind" (kind: transport, http_502, ...).
	Failed map[string]int
	// Lost counts reads that found no user although its creation was acknowledged.
	Lost int
	// Mismatches counts reads that returned a name other than the last acknowledged one.
	Mismatches int
	// Errors holds the first failure messages.
	Errors []string
	// Users maps every acknowledged user to the name it must have now. For a user whose last
	// rename got no clear answer, Maybe holds the other acceptable name.
	Users map[int64]string
	Maybe map[int64]string
	// ByVersion counts responses by X-Version.
	ByVersion map[string]int
	// Latencies of every request, sorted; Max is the longest.
	Latencies []time.Duration
	Elapsed   time.Duration
}

// FailedRequests is the number of requests that failed, lost reads and mismatches included.
func (r Report) FailedRequests() int {
	n := r.Lost + r.Mismatches
	for _, c := range r.Failed {
		n += c
	}
	return n
}

// Max is the longest request latency.
func (r Report) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[len(r.Latencies)-1]
}

// Quantile returns the q-quantile (0..1) of the request latencies.
func (r Report) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))]
}

// Check compares the names a database holds (by user id) with the acknowledged ones and
// returns the ids that are missing and those whose name is wrong.
func (r Report) Check(actual map[int64]string) (missing, wrong []int64) {
	for id, want := range r.Users {
		got, ok := actual[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case got != want && (r.Maybe[id] == "" || got != r.Maybe[id]):
			wrong = append(wrong, id)
		}
	}
	slices.Sort(missing)
	slices.Sort(wrong)
	return missing, wrong
}

// state is a run's bookkeeping, shared by its tasks.
type state struct {
	mu   sync.Mutex
	rep  Report
	idle []int64        // acknowledged users no task is using
	busy map[int64]bool // seeded users a task is renaming
}

func newState() *state {
	return &state{rep: Report{Failed: map[string]int{}, Users: map[int64]string{},
		Maybe: map[int64]string{}, ByVersion: map[string]int{}}, busy: map[int64]bool{}}
}

func (s *state) do(f func(r *Report)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.rep)
}

func (s *state) drop() { s.do(func(r *Report) { r.Dropped++ }) }

func (s *state) latency(d time.Duration, version string) {
	s.do(func(r *Report) {
		r.Requests++
		r.Latencies = append(r.Latencies, d)
		if version != "" {
			r.ByVersion[version]++
		}
	})
}

func (s *state) fail(method, kind, msg string) {
	s.do(func(r *Report) {
		r.Failed[method+" "+kind]++
		r.note(msg)
	})
}

func (r *Report) note(msg string) {
	if len(r.Errors) < maxErrors {
		r.Errors = append(r.Errors, msg)
	}
}

func (s *state) created(id int64, name string) { s.do(func(r *Report) { r.Users[id] = name }) }

// renaming marks the rename in flight: until it is acknowledged, either name is right.
func (s *state) renaming(id int64, name string) { s.do(func(r *Report) { r.Maybe[id] = name }) }

func (s *state) renamed(id int64, name string) {
	s.do(func(r *Report) {
		r.Users[id] = name
		delete(r.Maybe, id)
	})
}

func (s *state) lost(id int64, msg string) {
	s.do(func(r *Report) {
		r.Lost++
		r.note("lost write: " + msg)
	})
}

// read checks a read-back name, settling an uncertain rename by what the database says.
func (s *state) read(id int64, name string) {
	s.do(func(r *Report) {
		switch {
		case name == r.Users[id]:
		case name == r.Maybe[id]:
			r.Users[id] = name
			delete(r.Maybe, id)
		default:
			r.Mismatches++
			r.note(fmt.Sprintf("user %d: read %q, want %q", id, name, r.Users[id]))
		}
	})
}

func (s *state) borrow() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idle) == 0 {
		return 0, false
	}
	i := rand.N(len(s.idle))
	id := s.idle[i]
	s.idle[i] = s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	return id, true
}

// borrowSeed picks a seeded user (1..seed) that no task is renaming, if it finds one soon.
func (s *state) borrowSeed(seed int64) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 16 {
		id := 1 + rand.Int64N(seed)
		if !s.busy[id] {
			s.busy[id] = true
			return id, true
		}
	}
	return 0, false
}

func (s *state) release(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		delete(s.busy, id)
		return
	}
	s.idle = append(s.idle, id)
}

func (s *state) report() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rep
	slices.Sort(r.Latencies)
	return r
}
