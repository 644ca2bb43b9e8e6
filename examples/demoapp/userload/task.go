package userload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// driver carries out tasks; its state is shared by all of them.
type driver struct {
	url     string
	timeout time.Duration
	seed    int64
	client  *http.Client
	st      *state
}

type user struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// task seq writes and reads back: odd tasks rename a user no other task is using (when there
// is one; every other one a seeded user when there are some), the others create a user.
func (d *driver) task(seq int64) {
	if seq%4 == 3 && d.seed > 0 {
		if id, ok := d.st.borrowSeed(d.seed); ok {
			d.rename(seq, id)
			return
		}
	}
	if seq%2 == 1 {
		if id, ok := d.st.borrow(); ok {
			d.rename(seq, id)
			return
		}
	}
	d.create(seq)
}

func (d *driver) create(seq int64) {
	name := fmt.Sprintf("user-%d", seq)
	var got user
	if !d.call(http.MethodPost, "/users", &user{Name: name}, http.StatusCreated, &got) {
		return
	}
	if got.ID <= 0 || got.Name != name {
		d.st.fail("POST", "bad_reply", fmt.Sprintf("POST /users %q: reply %+v", name, got))
		return
	}
	d.st.created(got.ID, name)
	d.readBack(got.ID)
	d.st.release(got.ID)
}

func (d *driver) rename(seq, id int64) {
	defer d.st.release(id)
	name := fmt.Sprintf("user-%d-renamed-%d", id, seq)
	path := "/users/" + strconv.FormatInt(id, 10)
	d.st.renaming(id, name)
	if !d.call(http.MethodPut, path, &user{Name: name}, http.StatusOK, nil) {
		return // renaming left the user uncertain: either name is right
	}
	d.st.renamed(id, name)
	d.readBack(id)
}

// readBack checks that the user reads as expected; a 404 is a lost write.
func (d *driver) readBack(id int64) {
	path := "/users/" + strconv.FormatInt(id, 10)
	var got user
	switch status, err := d.do(http.MethodGet, path, nil, &got); {
	case status == http.StatusNotFound:
		d.st.lost(id, err.msg)
	case err != nil:
		d.st.fail("GET", err.kind, err.msg)
	default:
		d.st.read(id, got.Name)
	}
}

// call sends a write and reports whether it got the wanted status; anything else is counted
// as a failure.
func (d *driver) call(method, path string, in any, want int, out any) bool {
	status, err := d.do(method, path, in, out)
	switch {
	case err != nil:
		d.st.fail(method, err.kind, err.msg)
		return false
	case status != want:
		d.st.fail(method, "status_"+strconv.Itoa(status), fmt.Sprintf("%s %s: status %d, want %d", method, path, status, want))
		return false
	}
	return true
}

type reqError struct{ kind, msg string }

// do sends one request, records its latency and version, and decodes a 2xx JSON reply.
func (d *driver) do(method, path string, in, out any) (int, *reqError) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.url+path, body)
	if err != nil {
		return 0, &reqError{"request", err.Error()}
	}
	t0 := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		d.st.latency(time.Since(t0), "")
		return 0, &reqError{"transport", fmt.Sprintf("%s %s: %v", method, path, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	d.st.latency(time.Since(t0), resp.Header.Get("X-Version"))
	if err != nil {
		return 0, &reqError{"body", fmt.Sprintf("%s %s: read body: %v", method, path, err)}
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return 0, &reqError{"bad_reply", fmt.Sprintf("%s %s: %v: %q", method, path, err, data)}
		}
	}
	if resp.StatusCode/100 != 2 {
		// The app's (or the proxy's) own words go into the failure list.
		return resp.StatusCode, &reqError{"http_" + strconv.Itoa(resp.StatusCode),
			fmt.Sprintf("%s %s: status %d: %.200s", method, path, resp.StatusCode, data)}
	}
	return resp.StatusCode, nil
}
