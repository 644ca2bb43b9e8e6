package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to the control API. It is safe for concurrent use. Requests have no timeout
// of their own (long polls and log streams last): bound them with the context.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client of the API at baseURL ("http://127.0.0.1:7070"; a bare
// "host:port" means http) that sends token as its bearer token.
func NewClient(baseURL, token string) *Client {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: &http.Client{}}
}

// Error is a non-2xx answer of the API. It unwraps to ErrUnauthorized (401), ErrForbidden (403), ErrNotFound
// (404), ErrConflict (409), ErrInvalid (400, 413, 422) or ErrUnavailable (503), and a 400 with field errors also
// to a *ValidationError, so callers can use errors.Is and errors.As.
type Error struct {
	Status int
	Body   ErrorBody
}

// Error returns the API's message, then each field error on its own line.
func (e *Error) Error() string {
	msg := e.Body.Error
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	for _, f := range e.Body.Fields {
		msg += "\n  " + f.String()
	}
	return msg
}

// Unwrap returns the sentinel matching the status, and the *ValidationError if any.
func (e *Error) Unwrap() []error {
	var errs []error
	switch e.Status {
	case http.StatusUnauthorized:
		errs = append(errs, ErrUnauthorized)
	case http.StatusForbidden:
		errs = append(errs, ErrForbidden)
	case http.StatusNotFound:
		errs = append(errs, ErrNotFound)
	case http.StatusConflict:
		errs = append(errs, ErrConflict)
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		errs = append(errs, ErrInvalid)
	case http.StatusServiceUnavailable:
		errs = append(errs, ErrUnavailable)
	}
	if e.Status == http.StatusBadRequest && len(e.Body.Fields) > 0 {
		errs = append(errs, &ValidationError{Fields: e.Body.Fields})
	}
	return errs
}

// Health asks GET /healthz, which needs no token.
func (c *Client) Health(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Deploy starts a deployment of req.Service.
func (c *Client) Deploy(ctx context.Context, req DeployRequest) (Deployment, error) {
	var d Deployment
	err := c.call(ctx, http.MethodPost, "/v1/services/"+url.PathEscape(req.Service)+"/deploy", nil, req, &d)
	return d, err
}

// Rollback starts a deployment returning service to an earlier revision.
func (c *Client) Rollback(ctx context.Context, service string, req RollbackRequest) (Deployment, error) {
	var d Deployment
	err := c.call(ctx, http.MethodPost, servicePath(service, "rollback"), nil, req, &d)
	return d, err
}

// Act applies an operator action ("pause", "resume", "abort", "promote", "promote_full") to
// the service's active deployment and returns it.
func (c *Client) Act(ctx context.Context, service, action string) (Deployment, error) {
	q := url.Values{}
	if action == "promote_full" {
		action = "promote"
		q.Set("full", "1")
	}
	var d Deployment
	err := c.call(ctx, http.MethodPost, servicePath(service, action), q, nil, &d)
	return d, err
}

// Pause pauses the service's active deployment.
func (c *Client) Pause(ctx context.Context, service string) (Deployment, error) {
	return c.Act(ctx, service, "pause")
}

// Resume resumes the service's paused deployment.
func (c *Client) Resume(ctx context.Context, service string) (Deployment, error) {
	return c.Act(ctx, service, "resume")
}

// PauseTraffic holds the service's new requests (up to timeout each; "" for the daemon's
// default) until ResumeTraffic.
func (c *Client) PauseTraffic(ctx context.Context, service, timeout string) error {
	return c.call(ctx, http.MethodPost, servicePath(service, "pause-traffic"), nil, map[string]string{"timeout": timeout}, nil)
}

// RemoveService stops a service and forgets it (its instances, route and history).
func (c *Client) RemoveService(ctx context.Context, service string) error {
	return c.call(ctx, http.MethodDelete, servicePath(service, ""), nil, nil, nil)
}

// ResumeTraffic releases the service's held requests.
func (c *Client) ResumeTraffic(ctx context.Context, service string) error {
	return c.call(ctx, http.MethodPost, servicePath(service, "resume-traffic"), nil, nil, nil)
}

// Abort aborts the service's active deployment, returning it to the stable revision.
func (c *Client) Abort(ctx context.Context, service string) (Deployment, error) {
	return c.Act(ctx, service, "abort")
}

// Promote moves the service's deployment past its current pause (full: to the end at once).
func (c *Client) Promote(ctx context.Context, service string, full bool) (Deployment, error) {
	if full {
		return c.Act(ctx, service, "promote_full")
	}
	return c.Act(ctx, service, "promote")
}

// CheckSpec has the daemon check a spec's YAML text; file names it in messages.
func (c *Client) CheckSpec(ctx context.Context, yaml []byte, file string) (CheckResult, error) {
	var res CheckResult
	q := url.Values{}
	if file != "" {
		q.Set("file", file)
	}
	err := c.call(ctx, http.MethodPost, "/v1/spec/check", q, rawBody(yaml), &res)
	return res, err
}

// Services lists every service's status.
func (c *Client) Services(ctx context.Context) ([]Service, error) {
	var list []Service
	err := c.call(ctx, http.MethodGet, "/v1/services", nil, nil, &list)
	return list, err
}

// Service returns one service's status.
func (c *Client) Service(ctx context.Context, name string) (Service, error) {
	var s Service
	err := c.call(ctx, http.MethodGet, servicePath(name, ""), nil, nil, &s)
	return s, err
}

// History lists the service's revisions.
func (c *Client) History(ctx context.Context, service string) ([]Revision, error) {
	var list []Revision
	err := c.call(ctx, http.MethodGet, servicePath(service, "history"), nil, nil, &list)
	return list, err
}

// Deployments lists the service's deployments, at most limit of them (0: the daemon's default).
func (c *Client) Deployments(ctx context.Context, service string, limit int) ([]Deployment, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var list []Deployment
	err := c.call(ctx, http.MethodGet, servicePath(service, "deployments"), q, nil, &list)
	return list, err
}

// Deployment returns one deployment.
func (c *Client) Deployment(ctx context.Context, id int64) (Deployment, error) {
	var d Deployment
	err := c.call(ctx, http.MethodGet, "/v1/deployments/"+strconv.FormatInt(id, 10), nil, nil, &d)
	return d, err
}

// Events returns the events q selects. With wait > 0 and nothing newer than q.AfterID yet,
// the daemon holds the answer up to wait for one to come (it may answer with none).
func (c *Client) Events(ctx context.Context, q EventQuery, wait time.Duration) ([]Event, error) {
	v := url.Values{}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	for key, n := range map[string]int64{"deployment": q.DeploymentID, "after": q.AfterID, "limit": int64(q.Limit)} {
		if n > 0 {
			v.Set(key, strconv.FormatInt(n, 10))
		}
	}
	if wait > 0 {
		v.Set("wait", wait.String())
	}
	var list []Event
	err := c.call(ctx, http.MethodGet, "/v1/events", v, nil, &list)
	return list, err
}

// Logs copies the service's logs (revision 0: every revision) to w; with follow it keeps
// copying until ctx ends or the daemon closes the stream.
func (c *Client) Logs(ctx context.Context, service string, revision int, follow bool, w io.Writer) error {
	q := url.Values{}
	if revision > 0 {
		q.Set("revision", strconv.Itoa(revision))
	}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := c.do(ctx, http.MethodGet, servicePath(service, "logs"), q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs of %s: %w", service, err)
	}
	return nil
}

// rawBody marks a request body sent as is, not as JSON.
type rawBody []byte

// call sends a request with body (JSON, or rawBody) and decodes a 2xx answer into out.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// do sends a request and returns a 2xx response, or an *Error for any other status.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, contentType = bytes.NewReader(b), "application/yaml"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		rd = bytes.NewReader(buf)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		return nil, fmt.Errorf("reach cutover daemon at %s: %w", c.base, unwrapURLError(err))
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(resp)
}

// readError turns a non-2xx response into an *Error, keeping a non-JSON body as the message.
func readError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(data, &e.Body) != nil || e.Body.Error == "" {
		e.Body = ErrorBody{Error: strings.TrimSpace(string(data))}
	}
	return e
}

// unwrapURLError drops net/http's `Get "url":` prefix: the caller names the daemon already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// servicePath returns /v1/services/{name}[/sub].
func servicePath(name, sub string) string {
	p := "/v1/services/" + url.PathEscape(name)
	if sub != "" {
		p += "/" + sub
	}
	return p
}
