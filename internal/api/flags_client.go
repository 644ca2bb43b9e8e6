package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cutover/cutover/internal/flags"
)

// flagPath returns /v1/flags/{key}[/sub].
func flagPath(key, sub string) string {
	p := "/v1/flags/" + url.PathEscape(key)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// whoQuery carries the author of a change.
func whoQuery(who string) url.Values {
	q := url.Values{}
	if who != "" {
		q.Set("who", who)
	}
	return q
}

// Flags lists every feature flag.
func (c *Client) Flags(ctx context.Context) ([]FlagStatus, error) {
	var list []FlagStatus
	err := c.call(ctx, http.MethodGet, "/v1/flags", nil, nil, &list)
	return list, err
}

// Flag returns one feature flag; an unknown key is an error wrapping ErrNotFound.
func (c *Client) Flag(ctx context.Context, key string) (FlagStatus, error) {
	var f FlagStatus
	err := c.call(ctx, http.MethodGet, flagPath(key, ""), nil, nil, &f)
	return f, err
}

// PutFlag creates or replaces the flag f.Key on behalf of who.
func (c *Client) PutFlag(ctx context.Context, who string, f flags.Flag) (FlagStatus, error) {
	var st FlagStatus
	err := c.call(ctx, http.MethodPut, flagPath(f.Key, ""), whoQuery(who), f, &st)
	return st, err
}

// PutFlagYAML creates or replaces the flag key from the YAML text of one flag; file names it
// in error messages, which carry lines and columns.
func (c *Client) PutFlagYAML(ctx context.Context, who, key string, yaml []byte, file string) (FlagStatus, error) {
	q := whoQuery(who)
	if file != "" {
		q.Set("file", file)
	}
	var st FlagStatus
	err := c.call(ctx, http.MethodPut, flagPath(key, ""), q, rawBody(yaml), &st)
	return st, err
}

// DeleteFlag deletes the flag key.
func (c *Client) DeleteFlag(ctx context.Context, who, key string) error {
	return c.call(ctx, http.MethodDelete, flagPath(key, ""), whoQuery(who), nil, nil)
}

// SetFlagEnabled enables or disables (the kill switch) the flag key.
func (c *Client) SetFlagEnabled(ctx context.Context, who, key string, enabled bool) (FlagStatus, error) {
	action := "disable"
	if enabled {
		action = "enable"
	}
	var st FlagStatus
	err := c.call(ctx, http.MethodPost, flagPath(key, action), whoQuery(who), nil, &st)
	return st, err
}

// SetFlagRollout changes the progressive rollout of the flag key.
func (c *Client) SetFlagRollout(ctx context.Context, who, key string, req FlagRolloutRequest) (FlagStatus, error) {
	var st FlagStatus
	err := c.call(ctx, http.MethodPost, flagPath(key, "rollout"), whoQuery(who), req, &st)
	return st, err
}

// FlagHistory returns audit records of flags and segments, newest first.
func (c *Client) FlagHistory(ctx context.Context, q FlagHistoryQuery) ([]flags.Record, error) {
	v := url.Values{}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/v1/flag-history"
	if q.Key != "" {
		path = flagPath(q.Key, "history")
	}
	var list []flags.Record
	err := c.call(ctx, http.MethodGet, path, v, nil, &list)
	return list, err
}

// ExportFlags returns every segment and flag as a flags-as-code YAML file.
func (c *Client) ExportFlags(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v1/flags", url.Values{"format": {"yaml"}}, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read flags export: %w", err)
	}
	return data, nil
}

// ImportFlags applies a flags-as-code YAML file; file names it in error messages.
func (c *Client) ImportFlags(ctx context.Context, who string, yaml []byte, file string, opts flags.ImportOptions) (flags.ImportResult, error) {
	q := whoQuery(who)
	if file != "" {
		q.Set("file", file)
	}
	if opts.Prune {
		q.Set("prune", "1")
	}
	if opts.DryRun {
		q.Set("dry_run", "1")
	}
	var res flags.ImportResult
	err := c.call(ctx, http.MethodPost, "/v1/flags/import", q, rawBody(yaml), &res)
	return res, err
}

// CreateSDKToken creates an evaluation-only token named name and returns it with its secret.
func (c *Client) CreateSDKToken(ctx context.Context, who, name string) (SDKToken, error) {
	var t SDKToken
	err := c.call(ctx, http.MethodPost, "/v1/sdk-tokens", whoQuery(who), map[string]string{"name": name}, &t)
	return t, err
}

// SDKTokens lists the SDK tokens (without their secrets).
func (c *Client) SDKTokens(ctx context.Context) ([]SDKToken, error) {
	var list []SDKToken
	err := c.call(ctx, http.MethodGet, "/v1/sdk-tokens", nil, nil, &list)
	return list, err
}

// RevokeSDKToken deletes the SDK token name: it stops working at once.
func (c *Client) RevokeSDKToken(ctx context.Context, who, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/sdk-tokens/"+url.PathEscape(name), whoQuery(who), nil, nil)
}
