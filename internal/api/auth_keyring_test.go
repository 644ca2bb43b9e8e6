package api

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestKeyringRotation: after a rotation the new token is admitted; the old one only within
// its grace; an earlier one never; an empty keyring admits nothing.
func TestKeyringRotation(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := NewKeyring("one")
	k.now = func() time.Time { return now }
	if !k.Check("one") || k.Check("two") || k.Check("") {
		t.Fatalf("fresh keyring: wrong admissions")
	}
	until := k.Rotate("two", time.Minute)
	if !until.Equal(now.Add(time.Minute)) {
		t.Errorf("Rotate returned %s, want %s", until, now.Add(time.Minute))
	}
	if !k.Check("two") || !k.Check("one") || k.Current() != "two" {
		t.Errorf("within grace: two %v one %v current %q; want both admitted, two current", k.Check("two"), k.Check("one"), k.Current())
	}
	now = now.Add(time.Minute)
	if k.Check("one") || !k.Check("two") {
		t.Errorf("grace over: one %v two %v; want only two", k.Check("one"), k.Check("two"))
	}
	k.Rotate("three", time.Hour)
	k.Rotate("four", 0)
	for tok, want := range map[string]bool{"one": false, "two": false, "three": false, "four": true} {
		if got := k.Check(tok); got != want {
			t.Errorf("after rotations without grace: Check(%s) = %v, want %v", tok, got, want)
		}
	}
	if NewKeyring("").Check("") {
		t.Errorf("an empty keyring admitted the empty token")
	}
}

// TestRefusalsLookAlike: every refused request gets the same 401 answer, whatever was wrong.
func TestRefusalsLookAlike(t *testing.T) {
	k := NewKeyring("secret-token")
	k.Rotate("new-token", time.Hour)
	srv := httptest.NewServer(k.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "in")
	})))
	defer srv.Close()
	answer := func(header string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + "|" + string(b)
	}
	_, want := answer("")
	for _, h := range []string{"Bearer wrong", "Basic c2VjcmV0LXRva2Vu", "Bearer secret-toke", "Bearer secret-token-longer",
		"bearer", "Token new-token", "Bearer " + strings.Repeat("x", 4096)} {
		code, got := answer(h)
		if code != http.StatusUnauthorized || got != want {
			t.Errorf("Authorization %.30q: %d %q, want 401 %q", h, code, got, want)
		}
	}
	for _, h := range []string{"Bearer new-token", "bearer secret-token"} {
		if code, _ := answer(h); code != http.StatusOK {
			t.Errorf("Authorization %q: %d, want 200", h, code)
		}
	}
}

// TestTwoAuthorizationHeadersRefused is the review's reproduction: with two Authorization
// headers the first one won, so a front end that checks the last one could be passed by a
// client adding its own. A request with more than one is refused with the same 401 as every
// refusal, on a raw socket whichever comes first.
func TestTwoAuthorizationHeadersRefused(t *testing.T) {
	k := NewKeyring("secret-token")
	srv := httptest.NewServer(k.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "in as "+Identity(r.Context()))
	})))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	send := func(headers string) (int, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"+headers+"Connection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + "|" + string(b)
	}
	_, refusal := send("")
	for _, h := range []string{
		"Authorization: Bearer secret-token\r\nAuthorization: Bearer wrong\r\n",
		"Authorization: Bearer wrong\r\nAuthorization: Bearer secret-token\r\n",
		"Authorization: Bearer secret-token\r\nAuthorization: Bearer secret-token\r\n",
	} {
		if code, got := send(h); code != http.StatusUnauthorized || got != refusal {
			t.Errorf("%q: %d %q, want 401 %q", h, code, got, refusal)
		}
	}
	if code, got := send("Authorization: Bearer secret-token\r\n"); code != http.StatusOK || got != "|in as admin" {
		t.Errorf("one good header: %d %q, want 200 in as admin", code, got)
	}
}

// TestIssuedTokenNamesItsRequests: a token issued under a name is admitted, its requests carry
// that name for Identity, and once revoked it is refused like any unknown token.
func TestIssuedTokenNamesItsRequests(t *testing.T) {
	k := NewKeyring("secret-token")
	srv := httptest.NewServer(k.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, Identity(r.Context()))
	})))
	defer srv.Close()
	as := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tok, revoke, err := k.Issue("hook post_promote of web deployment 2")
	if err != nil {
		t.Fatal(err)
	}
	if code, who := as(tok); code != http.StatusOK || who != "hook post_promote of web deployment 2" {
		t.Errorf("issued token: %d %q, want 200 as the hook", code, who)
	}
	if code, who := as("secret-token"); code != http.StatusOK || who != AdminName {
		t.Errorf("admin token: %d %q, want 200 as %s", code, who, AdminName)
	}
	revoke()
	if code, _ := as(tok); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", code)
	}
}
