package h1

// Byte classes of RFC 9110 and RFC 3986, as the parser needs them.

// tchar reports the bytes of a token (a method or a header name).
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// pathChar reports the bytes a path may hold for the parser to take it verbatim, as
// url.ParseRequestURI would: no escapes and nothing url.URL.EscapedPath would escape (it
// escapes ! ' ( ) *, and then keeps the path as RawPath; found by FuzzFastParse). Others send
// the target through url.ParseRequestURI.
var pathChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~/$&+,;=:@" {
		t[c] = true
	}
	return t
}()

// valueChar reports the bytes a header value may hold: field-vchar, SP and HTAB, and
// obs-text (0x80-0xFF), which Go's server accepts too. Every other control byte, CR and LF
// included, is refused.
var valueChar = func() (t [256]bool) {
	t['\t'] = true
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	return t
}()

// hostChar reports the bytes a Host value may hold here: a reg-name, an IPv4 or a bracketed
// IPv6 address, and a port. Anything else (percent escapes, user info) goes to net/http.
var hostChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~:[]" {
		t[c] = true
	}
	return t
}()

// canonical reports whether the header name k is in canonical form (as
// textproto.CanonicalMIMEHeaderKey would return it): each word's first letter upper case, the
// others lower case.
func canonical(k string) bool {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			return false
		case !upper && 'A' <= c && c <= 'Z':
			return false
		}
		upper = c == '-'
	}
	return true
}

// equalFold reports whether s equals the lower-case ASCII word lower, ignoring case.
func equalFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
