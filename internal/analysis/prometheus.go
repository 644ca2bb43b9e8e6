package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrNoData is returned by PrometheusSource.Query when the query matched no series.
var ErrNoData = errors.New("query returned no data")

// maxAnswer bounds the size of a Prometheus answer read; one number needs far less.
const maxAnswer = 1 << 20

// PrometheusSource asks one Prometheus server (or anything serving its HTTP API: Thanos,
// Mimir, VictoriaMetrics) for instant-query results. It is the analysis package's only I/O and
// is safe for concurrent use.
type PrometheusSource struct {
	endpoint string
	client   *http.Client
	auth     PrometheusAuth
}

// PrometheusAuth is what a source sends with each query: a bearer token, or a username and
// password (basic auth); zero: nothing. It never prints its secrets.
type PrometheusAuth struct {
	BearerToken        string
	Username, Password string
}

// String names the kind of authentication only.
func (a PrometheusAuth) String() string {
	switch {
	case a.BearerToken != "":
		return "bearer token [redacted]"
	case a.Username != "":
		return "basic auth " + a.Username + ":[redacted]"
	}
	return "none"
}

// WithAuth returns a copy of s that authenticates each query with a.
func (s *PrometheusSource) WithAuth(a PrometheusAuth) *PrometheusSource {
	c := *s
	c.auth = a
	return &c
}

// NewPrometheusSource returns a source for the server at baseURL ("http://prometheus:9090",
// a path prefix allowed); client nil means http.DefaultClient. Time limits come from the ctx
// given to Query.
func NewPrometheusSource(baseURL string, client *http.Client) *PrometheusSource {
	if client == nil {
		client = http.DefaultClient
	}
	return &PrometheusSource{endpoint: strings.TrimSuffix(baseURL, "/") + "/api/v1/query", client: client}
}

// promAnswer is the envelope of Prometheus' HTTP API.
type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query evaluates query at the current time (POST /api/v1/query) and returns its one number:
// a scalar, or the value of a vector's only element. It returns ErrNoData (wrapped) for an
// empty vector, and an error for an unreachable server, a non-2xx answer, an answer that is
// not Prometheus JSON, a matrix or string result, or a vector of more than one element. NaN
// and infinities are returned as numbers; the caller judges them.
func (s *PrometheusSource) Query(ctx context.Context, query string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint,
		strings.NewReader(url.Values{"query": {query}}.Encode()))
	if err != nil {
		return 0, fmt.Errorf("prometheus query: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	switch {
	case s.auth.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+s.auth.BearerToken)
	case s.auth.Username != "":
		req.SetBasicAuth(s.auth.Username, s.auth.Password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("prometheus %s did not answer in time: %w", s.endpoint, err)
		}
		return 0, fmt.Errorf("prometheus %s unreachable: %w", s.endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: read answer: %w", s.endpoint, err)
	}
	if len(body) > maxAnswer {
		return 0, fmt.Errorf("prometheus %s: answer larger than %d bytes", s.endpoint, maxAnswer)
	}
	var ans promAnswer
	jsonErr := json.Unmarshal(body, &ans)
	if resp.StatusCode/100 != 2 {
		msg := ans.Error
		if jsonErr != nil || msg == "" {
			msg = snippet(body)
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return 0, fmt.Errorf("prometheus %s refused the credentials (%s): HTTP %d: %s", s.endpoint, s.auth, resp.StatusCode, msg)
		}
		return 0, fmt.Errorf("prometheus %s answered HTTP %d: %s", s.endpoint, resp.StatusCode, msg)
	}
	if jsonErr != nil {
		return 0, fmt.Errorf("prometheus %s: answer is not Prometheus JSON: %w", s.endpoint, jsonErr)
	}
	if ans.Status != "success" {
		return 0, fmt.Errorf("prometheus %s: status %q: %s %s", s.endpoint, ans.Status, ans.ErrorType, ans.Error)
	}
	v, err := resultValue(ans.Data.ResultType, ans.Data.Result)
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: %w", s.endpoint, err)
	}
	return v, nil
}

// resultValue extracts the one number of an instant query's result.
func resultValue(typ string, raw json.RawMessage) (float64, error) {
	switch typ {
	case "scalar":
		var sample []json.RawMessage
		if err := json.Unmarshal(raw, &sample); err != nil {
			return 0, fmt.Errorf("decode scalar: %w", err)
		}
		return sampleValue(sample)
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &vec); err != nil {
			return 0, fmt.Errorf("decode vector: %w", err)
		}
		switch len(vec) {
		case 0:
			return 0, ErrNoData
		case 1:
			return sampleValue(vec[0].Value)
		}
		return 0, fmt.Errorf("query returned %d series, want one (aggregate them, e.g. with sum or max): %v, %v, ...",
			len(vec), vec[0].Metric, vec[1].Metric)
	}
	return 0, fmt.Errorf("query returned a %q result, want a vector or scalar (a range selector like [5m] needs a function such as rate)", typ)
}

// sampleValue reads [timestamp, "value"].
func sampleValue(sample []json.RawMessage) (float64, error) {
	var s string
	if len(sample) != 2 || json.Unmarshal(sample[1], &s) != nil {
		return 0, fmt.Errorf("sample %s is not [time, \"value\"]", snippet(fmt.Appendf(nil, "%s", sample)))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q is not a number", s)
	}
	return v, nil
}

// snippet returns the start of an answer body for an error message.
func snippet(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
