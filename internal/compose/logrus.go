package compose

import (
	"io"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
)

// logrusMu serialises quietly: compose-go logs through logrus's standard logger, which is
// global, so capturing it is too.
var logrusMu sync.Mutex

// quietly runs f with logrus's standard logger silenced and returns the warnings it logged
// meanwhile, so that compose-go's log lines become cutover warnings instead of leaking to
// standard error. The version warning is dropped: Load reports it with its file.
func quietly(f func() error) ([]string, error) {
	logrusMu.Lock()
	defer logrusMu.Unlock()
	l := logrus.StandardLogger()
	h := &collector{}
	old := l.ReplaceHooks(logrus.LevelHooks{})
	l.AddHook(h)
	out := l.Out
	l.SetOutput(io.Discard)
	defer func() {
		l.ReplaceHooks(old)
		l.SetOutput(out)
	}()
	err := f()
	return h.messages, err
}

// collector is a logrus hook keeping warnings and worse.
type collector struct{ messages []string }

func (c *collector) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (c *collector) Fire(e *logrus.Entry) error {
	if !strings.Contains(e.Message, "`version` is obsolete") {
		c.messages = append(c.messages, e.Message)
	}
	return nil
}
