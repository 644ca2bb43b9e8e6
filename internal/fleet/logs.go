package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/store"
)

// LogSources lists, sorted, the instances of service (of revision; 0: every revision) whose
// output Logs can copy: the ones the runtime knows and every one the events say was started
// (a removed process keeps its log file).
func (f *Fleet) LogSources(ctx context.Context, service string, revision int) ([]string, error) {
	all, err := f.rt.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, st := range all {
		if st.Service == service && (revision == 0 || st.Revision == revision) {
			ids = append(ids, st.ID)
		}
	}
	past, err := pastInstances(ctx, f.store, service, revision)
	if err != nil {
		return nil, err
	}
	for _, id := range past {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Logs writes the instances' output to w, each line prefixed with "<id> | " and passed
// through redact. An instance gone with its output (a removed container) is skipped. Without follow the instances are written one after the other; with
// follow they are tailed together until ctx is done.
func (f *Fleet) Logs(ctx context.Context, ids []string, follow bool, redact func(string) string, w io.Writer) error {
	drv := f.rt
	var mu sync.Mutex
	if !follow {
		for _, id := range ids {
			pw := &prefixWriter{mu: &mu, w: w, prefix: []byte(id + " | "), redact: redact}
			if err := drv.Logs(ctx, id, false, pw); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				return err
			}
			pw.flush()
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Go(func() {
			pw := &prefixWriter{mu: &mu, w: w, prefix: []byte(id + " | "), redact: redact}
			errs <- drv.Logs(ctx, id, true, pw)
			pw.flush()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && ctx.Err() == nil && !errors.Is(err, runtime.ErrNotFound) {
			return err
		}
	}
	return nil
}

// prefixWriter writes whole lines, each with a prefix, under a shared lock, flushing w after
// each batch when it can.
type prefixWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	prefix  []byte
	redact  func(string) string
	partial []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.partial = append(p.partial, b...)
	var out []byte
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		out = append(out, p.prefix...)
		out = append(out, p.redact(string(p.partial[:i+1]))...)
		p.partial = p.partial[i+1:]
	}
	if len(out) > 0 {
		p.mu.Lock()
		_, err := p.w.Write(out)
		if f, ok := p.w.(interface{ Flush() }); ok {
			f.Flush()
		}
		p.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.partial) > 0 {
		_, _ = p.Write([]byte("\n"))
	}
}

// pastInstances lists the instances of a revision (0: any) that were ever started, from the
// events.
func pastInstances(ctx context.Context, st Store, service string, revision int) ([]string, error) {
	var ids []string
	var after int64
	for {
		evs, err := st.ListEvents(ctx, store.EventFilter{Service: service, AfterID: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			after = e.ID
			if e.Type != "instance_started" {
				continue
			}
			var data struct {
				Instance string `json:"instance"`
				Revision int    `json:"revision"`
			}
			if json.Unmarshal(e.Data, &data) == nil && (revision == 0 || data.Revision == revision) {
				ids = append(ids, data.Instance)
			}
		}
		if len(evs) < 1000 {
			return ids, nil
		}
	}
}
