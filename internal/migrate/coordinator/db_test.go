package coordinator

import (
	"errors"
	"strings"
	"testing"
)

func TestScrubDSN(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	cases := []struct{ dsn, text string }{
		{"postgres://app:pa%3Ass@db/app", "connect postgres://app:pa%3Ass@db/app: pa:ss rejected"},
		{"host=db user=app password='p w' dbname=app", "cannot parse `host=db user=app password='p w' dbname=app`: p w"},
		{"host=db password=hunter2", "password=hunter2 failed"},
	}
	for _, c := range cases {
		err := scrubDSN(&dsnError{msg: c.text, err: cause}, c.dsn)
		for _, secret := range []string{"pa%3Ass", "pa:ss", "p w", "hunter2"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("scrub of %q left %q: %s", c.text, secret, err)
			}
		}
		if !errors.Is(err, cause) {
			t.Errorf("scrub of %q lost the cause", c.text)
		}
	}
}
