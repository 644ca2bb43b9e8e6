package analysis

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakePrometheus answers /prefix/api/v1/query with status and body, and records the queries.
func fakePrometheus(t *testing.T, status int, body string) (*httptest.Server, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prefix/api/v1/query" || r.Method != http.MethodPost {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		got = append(got, r.FormValue("query"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

const (
	vectorOne = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"web"},"value":[1700000000.5,"0.0123"]}]}}`
	vectorTwo = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"1"]},{"metric":{"job":"b"},"value":[1,"2"]}]}}`
	vectorNaN = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`
	vectorInf = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]}]}}`
	empty     = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	scalar    = `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.97"]}}`
	matrix    = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}}`
	str       = `{"status":"success","data":{"resultType":"string","result":[1,"hello"]}}`
	badData   = `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected \")\""}`
)

func TestPrometheusSourceQuery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   float64 // checked when err is ""
		err    string
		noData bool
	}{
		{"vector of one", 200, vectorOne, 0.0123, "", false},
		{"scalar", 200, scalar, 0.97, "", false},
		{"infinity is a number", 200, vectorInf, math.Inf(1), "", false},
		{"NaN is a number", 200, vectorNaN, math.NaN(), "", false},
		{"empty vector", 200, empty, 0, "query returned no data", true},
		{"two series", 200, vectorTwo, 0, "query returned 2 series, want one", false},
		{"matrix", 200, matrix, 0, `"matrix" result, want a vector or scalar`, false},
		{"string", 200, str, 0, `"string" result`, false},
		{"bad JSON", 200, `{"status":"success","data":`, 0, "not Prometheus JSON", false},
		{"HTML page", 200, `<html>login</html>`, 0, "not Prometheus JSON", false},
		{"status error in 200", 200, `{"status":"error","errorType":"timeout","error":"query timed out"}`, 0, `status "error": timeout query timed out`, false},
		{"HTTP 500 text", 500, "upstream exploded", 0, "answered HTTP 500: upstream exploded", false},
		{"HTTP 503 empty", 503, "", 0, "answered HTTP 503: (empty body)", false},
		{"HTTP 400 bad query", 400, badData, 0, `answered HTTP 400: invalid parameter "query": 1:5: parse error`, false},
		{"sample not a pair", 200, `{"status":"success","data":{"resultType":"scalar","result":[1]}}`, 0, "is not [time, \"value\"]", false},
		{"value not a number", 200, `{"status":"success","data":{"resultType":"scalar","result":[1,"abc"]}}`, 0, `sample value "abc" is not a number`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, queries := fakePrometheus(t, tc.status, tc.body)
			src := NewPrometheusSource(srv.URL+"/prefix/", srv.Client())
			got, err := src.Query(t.Context(), `sum(rate(x{a="b"}[1m]))`)
			if len(*queries) != 1 || (*queries)[0] != `sum(rate(x{a="b"}[1m]))` {
				t.Errorf("server saw queries %q, want the one sent", *queries)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Query = %v, %v; want error containing %q", got, err, tc.err)
				}
				if errors.Is(err, ErrNoData) != tc.noData {
					t.Errorf("errors.Is(%v, ErrNoData) = %v, want %v", err, !tc.noData, tc.noData)
				}
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("Query = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrometheusSourceUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	_, err = NewPrometheusSource("http://"+addr, nil).Query(t.Context(), "up")
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Query on a closed port: %v, want an unreachable error naming %s", err, addr)
	}
	r := EvaluateCheck(Condition{"<", 1}, 0, err)
	if r.Outcome != Inconclusive || !strings.Contains(r.Reason, "unreachable") {
		t.Errorf("EvaluateCheck(unreachable) = %+v, want inconclusive with the reason", r)
	}
}

func TestPrometheusSourceTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewPrometheusSource(srv.URL, srv.Client()).Query(ctx, "up")
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Query on a server that never answers: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Query took %v, want it bounded by the context", d)
	}
}
