package hostile

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// head is a request head: the request line for method on t, Host, then lines, each ending in
// CRLF, then the blank line.
func head(method string, t Target, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, t.Path, t.Host)
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// word is n random lower-case letters.
func word(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// chunks is a well-formed chunked body of 1-3 random chunks, last chunk included.
func chunks(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(3) {
		data := word(rng, 1+rng.IntN(40))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(data), data)
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// caseOf spells a header name in a random case.
func caseOf(rng *rand.Rand, name string) string {
	switch rng.IntN(3) {
	case 0:
		return strings.ToLower(name)
	case 1:
		return strings.ToUpper(name)
	}
	return name
}

const chunked = "Transfer-Encoding: chunked"

func bareLFChunked(rng *rand.Rand, t Target) Attack {
	body := chunks(rng)
	// Turn one or all of the body's CRLFs into bare LFs.
	if rng.IntN(2) == 0 {
		body = strings.ReplaceAll(body, "\r\n", "\n")
	} else {
		n := strings.Count(body, "\r\n")
		i := rng.IntN(n)
		parts := strings.SplitN(body, "\r\n", i+2)
		body = strings.Join(parts[:i+1], "\r\n") + "\n" + parts[i+1]
	}
	return Attack{First: []byte(head("POST", t, chunked) + body)}
}

func lateBareLF(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("POST", t, chunked) + "3\r\nabc\r\n"), Then: []byte("0\n\n"), Pause: late}
}

func badChunkSize(rng *rand.Rand, t Target) Attack {
	sizes := []string{"zz", "-1", "ffffffffffffffffff", "3 3", "0x3", ""}
	return Attack{First: []byte(head("POST", t, chunked) + sizes[rng.IntN(len(sizes))] + "\r\nabc\r\n0\r\n\r\n")}
}

func lateBadChunk(rng *rand.Rand, t Target) Attack {
	then := []string{"zz\r\n", "3\r\nabcdef\r\n", "3\r\r\nabc\r\n"}
	return Attack{First: []byte(head("POST", t, chunked) + "3\r\nabc\r\n"), Then: []byte(then[rng.IntN(len(then))]), Pause: late}
}

func badTrailer(rng *rand.Rand, t Target) Attack {
	trailers := []string{"X-T: 1\n\r\n", "\n", "X T: 1\r\n\r\n", " folded\r\n\r\n"}
	first, then := head("POST", t, chunked)+"3\r\nabc\r\n", "0\r\n"+trailers[rng.IntN(len(trailers))]
	if rng.IntN(2) == 0 { // the trailer arrives after the head was forwarded
		return Attack{First: []byte(first), Then: []byte(then), Pause: late}
	}
	return Attack{First: []byte(first + then)}
}

func clAndTE(rng *rand.Rand, t Target) Attack {
	cl, te := caseOf(rng, "Content-Length")+": 3", caseOf(rng, "Transfer-Encoding")+": chunked"
	lines := []string{cl, te}
	if rng.IntN(2) == 0 {
		lines = []string{te, cl}
	}
	return Attack{First: []byte(head("POST", t, lines...) + "3\r\nabc\r\n0\r\n\r\n")}
}

func duplicateCL(rng *rand.Rand, t Target) Attack {
	second := []string{"3", "4", " 3", "3, 3"}
	return Attack{First: []byte(head("POST", t, "Content-Length: 3", caseOf(rng, "Content-Length")+": "+second[rng.IntN(len(second))]) + "abcd")}
}

func teOnHTTP10(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(fmt.Sprintf("POST %s HTTP/1.0\r\nHost: %s\r\n%s\r\n\r\n3\r\nabc\r\n0\r\n\r\n", t.Path, t.Host, chunked))}
}

func unknownTE(rng *rand.Rand, t Target) Attack {
	te := []string{"gzip", "gzip, chunked", "chunked, chunked", "x chunked", "identity"}
	return Attack{First: []byte(head("POST", t, "Transfer-Encoding: "+te[rng.IntN(len(te))]) + "3\r\nabc\r\n0\r\n\r\n")}
}

func obsFold(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("GET", t, "X-Folded: a", " "+word(rng, 5)))}
}

func bareLFHead(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\nX-A: %s\r\n\r\n", t.Path, t.Host, word(rng, 4)))}
}

func bareCR(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("GET", t, "X-A: a\r"+word(rng, 3)))}
}

func badContentLength(rng *rand.Rand, t Target) Attack {
	values := []string{"1x", "-1", "+3", "3 3", "0x3", "99999999999999999999999"}
	return Attack{First: []byte(head("POST", t, "Content-Length: "+values[rng.IntN(len(values))]) + "abc")}
}

func hugeContentLength(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("POST", t, "Content-Length: 9999999999") + word(rng, 10)), End: CloseAtOnce}
}

func bodyCut(rng *rand.Rand, t Target) Attack {
	n := 20 + rng.IntN(1000)
	return Attack{First: []byte(head("POST", t, fmt.Sprintf("Content-Length: %d", n)) + word(rng, rng.IntN(n))), Then: []byte{}, Pause: late, End: CloseAtOnce}
}

func chunkedBodyCut(rng *rand.Rand, t Target) Attack {
	body := chunks(rng)
	return Attack{First: []byte(head("POST", t, chunked) + body[:rng.IntN(len(body)-2)]), Then: []byte{}, Pause: late, End: CloseAtOnce}
}

func bodyStalled(rng *rand.Rand, t Target) Attack {
	// A slow client that resumes: its request is served.
	return Attack{First: []byte(head("POST", t, "Content-Length: 6") + "abc"), Then: []byte("def"), Pause: t.Stall}
}

func bodyStalledCut(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("POST", t, "Content-Length: 6") + "abc"), Then: []byte{}, Pause: t.Stall, End: CloseAtOnce}
}

func bodyHalfClosed(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("POST", t, "Content-Length: 100") + word(rng, rng.IntN(100))), Then: []byte{}, Pause: late, End: HalfClose}
}

func goneBeforeAnswer(rng *rand.Rand, t Target) Attack {
	methods := []string{"GET", "POST", "DELETE"}
	return Attack{First: []byte(head(methods[rng.IntN(len(methods))], t, "Content-Length: 0")), End: CloseAtOnce}
}

func headCut(rng *rand.Rand, t Target) Attack {
	h := head("GET", t, "X-A: "+word(rng, 20))
	return Attack{First: []byte(h[:rng.IntN(len(h)-1)]), End: CloseAtOnce}
}

func oversizeHeader(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("GET", t, "X-Big: "+strings.Repeat("x", 70<<10+rng.IntN(1<<10))))}
}

func garbage(rng *rand.Rand, t Target) Attack {
	b := make([]byte, 1+rng.IntN(512))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	if rng.IntN(2) == 0 {
		b = append([]byte("POST "+t.Path+" HTTP/1.1\r\n"), b...)
	}
	return Attack{First: b, End: HalfClose}
}

func connect(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(fmt.Sprintf("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", t.Host, t.Host))}
}

func h2cUpgrade(rng *rand.Rand, t Target) Attack {
	return Attack{First: []byte(head("GET", t, "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"))}
}
