package daemon

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/cutover/cutover/internal/runtime"
)

// copyLogs writes the instances' logs to w, each line prefixed with "<id> | " and its secret
// values hidden by red. Without follow the instances are written one after the other; with
// follow they are tailed together.
func copyLogs(ctx context.Context, drv runtime.Driver, ids []string, follow bool, red redactor, w io.Writer) error {
	var mu sync.Mutex
	if !follow {
		for _, id := range ids {
			pw := &prefixWriter{mu: &mu, w: w, prefix: []byte(id + " | "), red: red}
			if err := drv.Logs(ctx, id, false, pw); err != nil {
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
			pw := &prefixWriter{mu: &mu, w: w, prefix: []byte(id + " | "), red: red}
			errs <- drv.Logs(ctx, id, true, pw)
			pw.flush()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && ctx.Err() == nil {
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
	red     redactor
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
		out = append(out, p.red.redact(string(p.partial[:i+1]))...)
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
