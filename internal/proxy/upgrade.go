package proxy

import (
	"io"
	"net/http"
	"strings"
)

// switchProtocols completes an upgrade (WebSocket and the like): it hands the upstream's 101
// to the client on the hijacked connection, then copies bytes both ways, unbuffered, until
// either side closes. The request stays in flight for the whole session.
func (p *Proxy) switchProtocols(w http.ResponseWriter, resp *http.Response, x *exchange) {
	respUp := upgradeType(resp.Header)
	up, ok := resp.Body.(io.ReadWriteCloser)
	if x.upgrade == "" || !strings.EqualFold(x.upgrade, respUp) || !ok {
		p.fail(w, x, http.StatusBadGateway, "upstream switched protocols unasked\n", nil)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// The client's connection cannot be taken over (HTTP/2): not the app's failure, so
		// not counted against its revision.
		x.g.rev.clientErrors.Add(1)
		p.plain(w, http.StatusBadGateway, "cannot upgrade this connection\n", x.reqID)
		return
	}
	defer conn.Close()
	stopGuard(conn) // the bytes that follow are the new protocol's
	x.g.rev.observe(resp.StatusCode, p.now()-x.start, x.endpoint)
	if !p.trackUpgraded(conn, true) {
		return // the proxy is stopping
	}
	defer p.trackUpgraded(conn, false)

	removeHopByHop(resp.Header)
	resp.Header["Connection"] = valUpgrade
	resp.Header["Upgrade"] = []string{respUp}
	resp.Header[p.cfg.RequestIDHeader] = x.reqID
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = resp.Header.Write(brw)
	_, _ = brw.WriteString("\r\n")
	if err := brw.Flush(); err != nil {
		return
	}

	done := make(chan struct{}, 2)
	go func() {
		_, _ = brw.Reader.WriteTo(up) // bytes the server buffered first, then the connection
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(conn, up)
		done <- struct{}{}
	}()
	<-done
	// One side is finished: close both so that the other copy ends too.
	_ = conn.Close()
	_ = up.Close()
	<-done
}
