package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cutover/cutover/internal/api"
)

// stateDir resolves the state directory: the flag, $CUTOVER_STATE, $XDG_STATE_HOME/cutover,
// then ~/.local/state/cutover.
func stateDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if d := os.Getenv("CUTOVER_STATE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cutover"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find state directory (set --state or CUTOVER_STATE): %w", err)
	}
	return filepath.Join(home, ".local", "state", "cutover"), nil
}

// addrFile is where the daemon writes its API address by default.
func (a *app) addrFile() string { return filepath.Join(a.stateDir, "api.addr") }

// tokenFile is where the daemon keeps the API token.
func (a *app) tokenFile() string { return filepath.Join(a.stateDir, "token") }

// client returns a client of the daemon, resolving its address and token.
func (a *app) client() (*api.Client, error) {
	x, err := a.contextSelection()
	if err != nil || x != nil {
		if err != nil {
			return nil, err
		}
		return a.contextClient(*x, true)
	}
	addr, err := a.daemonAddr()
	if err != nil {
		return nil, err
	}
	tok, from := a.token, "--token"
	if tok == "" {
		tok, from = os.Getenv("CUTOVER_TOKEN"), "$CUTOVER_TOKEN"
	}
	if tok == "" {
		from = a.tokenFile()
		tok, err = api.ReadToken(from)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("find API token: %s does not exist (is 'cutover serve' using this --state? "+
				"or give --token / CUTOVER_TOKEN)", a.tokenFile())
		}
		if err != nil {
			return nil, fmt.Errorf("find API token: %w", err)
		}
	}
	a.tokenFrom = from
	ca := a.ca
	if ca == "" {
		ca = os.Getenv("CUTOVER_CA")
	}
	return api.NewClientCA(addr, tok, ca)
}

// daemonAddr resolves the API address: the flag, $CUTOVER_ADDR, then the address file.
func (a *app) daemonAddr() (string, error) {
	if a.addr != "" {
		a.addrFrom = "--addr"
		return a.addr, nil
	}
	if addr := os.Getenv("CUTOVER_ADDR"); addr != "" {
		a.addrFrom = "$CUTOVER_ADDR"
		return addr, nil
	}
	data, err := os.ReadFile(a.addrFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("find daemon address: %s does not exist (is 'cutover serve' running? "+
			"or give --addr / CUTOVER_ADDR)", a.addrFile())
	}
	if err != nil {
		return "", fmt.Errorf("find daemon address: %w", err)
	}
	addr := strings.TrimSpace(string(data))
	if addr == "" {
		return "", fmt.Errorf("find daemon address: %s is empty", a.addrFile())
	}
	a.addrFrom = a.addrFile()
	return addr, nil
}

// explain adds to err what the user needs to fix it: where the address of a daemon that
// refused the connection came from, and where the refused token came from.
func (a *app) explain(err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) && a.addrFrom == a.addrFile():
		return fmt.Errorf("%w\nthe daemon at the address in %s is not running (a stale file of a daemon that "+
			"ended?): start it with 'cutover serve --state %s', or give --addr / CUTOVER_ADDR", err, a.addrFrom, a.stateDir)
	case errors.Is(err, syscall.ECONNREFUSED) && a.addrFrom != "":
		return fmt.Errorf("%w\nno daemon listens at the address from %s: start one with 'cutover serve', "+
			"or correct %s", err, a.addrFrom, a.addrFrom)
	case errors.Is(err, api.ErrUnauthorized) && a.tokenFrom != "":
		return fmt.Errorf("%w\nthe daemon refused the token from %s: %s", err, a.tokenFrom, tokenHint(a.tokenFrom, a.tokenFile()))
	}
	return err
}

// tokenHint says how to get the right token, given where the refused one came from.
func tokenHint(from, file string) string {
	if from == file {
		return "is this the --state of the daemon at this address? or give --token / CUTOVER_TOKEN"
	}
	return "give the daemon's token (in <state>/token of the daemon's state directory; " + file + " here)"
}
