package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// ofrepTimeout bounds one flag evaluation: a flag service that is slow must not make the app slow.
const ofrepTimeout = 500 * time.Millisecond

// flag answers GET /flag?key=KEY[&user=ID] with "KEY=VALUE variant=V reason=R", VALUE in
// JSON, by asking an OpenFeature OFREP service (cutover's daemon) on every request:
// POST $OFREP_URL/ofrep/v1/evaluate/flags/KEY with the bearer token $OFREP_TOKEN (or the
// contents of the file $OFREP_TOKEN_FILE) and the user as the targeting key. An evaluation
// error is answered with the OFREP status and "KEY error CODE: details"; an unreachable
// service with 502. The environment is read when the routes are built, as the config is.
func (a *app) flag() http.Handler {
	base := strings.TrimRight(os.Getenv("OFREP_URL"), "/")
	token := os.Getenv("OFREP_TOKEN")
	var tokenErr error
	if f := os.Getenv("OFREP_TOKEN_FILE"); token == "" && f != "" {
		b, err := os.ReadFile(f)
		token, tokenErr = strings.TrimSpace(string(b)), err
	}
	client := &http.Client{Timeout: ofrepTimeout}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		switch {
		case base == "":
			http.Error(w, "OFREP_URL is not set", http.StatusServiceUnavailable)
			return
		case tokenErr != nil:
			http.Error(w, "read OFREP_TOKEN_FILE: "+tokenErr.Error(), http.StatusServiceUnavailable)
			return
		case key == "":
			http.Error(w, "want ?key=FLAG", http.StatusBadRequest)
			return
		}
		evalCtx := map[string]any{}
		if u := r.URL.Query().Get("user"); u != "" {
			evalCtx["targetingKey"] = u
		}
		body, _ := json.Marshal(map[string]any{"context": evalCtx})
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost,
			base+"/ofrep/v1/evaluate/flags/"+url.PathEscape(key), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "ask flag service: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		writeFlag(w, key, resp)
	})
}

// writeFlag turns an OFREP answer into the /flag answer.
func writeFlag(w http.ResponseWriter, key string, resp *http.Response) {
	var res struct {
		Value        json.RawMessage `json:"value"`
		Variant      string          `json:"variant"`
		Reason       string          `json:"reason"`
		ErrorCode    string          `json:"errorCode"`
		ErrorDetails string          `json:"errorDetails"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(data, &res); err != nil {
		http.Error(w, fmt.Sprintf("flag service answered %s: %s", resp.Status, strings.TrimSpace(string(data))), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if resp.StatusCode != http.StatusOK || res.ErrorCode != "" {
		w.WriteHeader(resp.StatusCode)
		fmt.Fprintf(w, "%s error %s: %s\n", key, res.ErrorCode, res.ErrorDetails)
		return
	}
	fmt.Fprintf(w, "%s=%s variant=%s reason=%s\n", key, res.Value, res.Variant, res.Reason)
}
