// Command healthprobe is a HEALTHCHECK for test images built FROM scratch, which have no
// shell or curl: it asks GET http://127.0.0.1:$PORT/healthz (HEALTH_PATH overrides the path,
// HEALTH_URL the whole URL, to reach another container by name) and exits 0 on 200, 1 otherwise. It is built statically by dockertest into the demo image.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	path := os.Getenv("HEALTH_PATH")
	if path == "" {
		path = "/healthz"
	}
	c := &http.Client{Timeout: 2 * time.Second}
	url := os.Getenv("HEALTH_URL")
	if url == "" {
		url = "http://127.0.0.1:" + os.Getenv("PORT") + path
	}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, resp.Status)
		os.Exit(1)
	}
}
