package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// cookieName is the session cookie; sealLabel binds its sealed value to this use.
const (
	cookieName = "cutover_session"
	sealLabel  = "dashboard/session"
	csrfHeader = "X-Cutover-CSRF"
	maxToken   = 512
)

// sessionData is what the sealed cookie holds. The token stays on the server's side of the
// browser: the cookie is HttpOnly and sealed, and only the CSRF value is shown to the page.
type sessionData struct {
	Token   string    `json:"t"`
	CSRF    string    `json:"c"`
	Expires time.Time `json:"e"`
}

type sessionKey struct{}

// login answers POST /ui/login {"token": "..."}: a token the API admits becomes a session
// cookie; anything else is 401, the same whatever was wrong. It is refused from another
// origin (a login CSRF would sign the victim in as the attacker).
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	var req struct {
		Token string `json:"token"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	if err := dec.Decode(&req); err != nil || req.Token == "" || len(req.Token) > maxToken {
		writeError(w, http.StatusBadRequest, "token: want a JSON body {\"token\": \"...\"}")
		return
	}
	token := strings.TrimSpace(req.Token)
	if !d.cfg.Check(token) {
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	s := sessionData{Token: token, CSRF: randomHex(), Expires: time.Now().Add(d.cfg.SessionTTL).UTC()}
	plain, _ := json.Marshal(s) // plain strings and a time: cannot fail
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: base64.RawURLEncoding.EncodeToString(d.cfg.Sealer.Seal(sealLabel, plain)),
		Path: "/ui/", Expires: s.Expires, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]string{"csrf": s.CSRF})
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// session answers GET /ui/session: whether the browser has a valid session and, if so, the
// CSRF value the page sends back on every action.
func (d *Dashboard) session(w http.ResponseWriter, r *http.Request) {
	s, err := d.readSession(r)
	if err != nil || !d.cfg.Check(s.Token) {
		writeJSON(w, http.StatusOK, map[string]any{"logged_in": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"logged_in": true, "csrf": s.CSRF})
}

// withSession serves next only with a valid, unexpired session whose token the API still
// admits; a request that may change state must also come from this origin and carry the
// session's CSRF value in X-Cutover-CSRF.
func (d *Dashboard) withSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := d.readSession(r)
		if err != nil || !d.cfg.Check(s.Token) {
			writeError(w, http.StatusUnauthorized, "unauthorized: log in")
			return
		}
		if !safeMethod(r.Method) {
			got := r.Header.Get(csrfHeader)
			if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				writeError(w, http.StatusForbidden, "cross-site request refused")
				return
			}
		}
		next(w, r.WithContext(contextWith(r, s)))
	}
}

func (d *Dashboard) readSession(r *http.Request) (sessionData, error) {
	var s sessionData
	c, err := r.Cookie(cookieName)
	if err != nil {
		return s, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return s, err
	}
	plain, err := d.cfg.Sealer.Open(sealLabel, raw)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(plain, &s); err != nil {
		return s, err
	}
	if time.Now().After(s.Expires) {
		return s, errors.New("session expired")
	}
	return s, nil
}

// sameOrigin reports whether the request comes from a page of this origin: a browser sends
// Origin on every POST (and Sec-Fetch-Site where it knows it); either naming another site
// refuses the request. A request with neither is not a browser's cross-site one.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host && (u.Scheme == "https") == (r.TLS != nil)
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
