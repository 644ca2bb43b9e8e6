package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	addr, err := a.daemonAddr()
	if err != nil {
		return nil, err
	}
	tok := a.token
	if tok == "" {
		tok = os.Getenv("CUTOVER_TOKEN")
	}
	if tok == "" {
		tok, err = api.ReadToken(a.tokenFile())
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("find API token: %s does not exist (is 'cutover serve' using this --state? "+
				"or give --token / CUTOVER_TOKEN)", a.tokenFile())
		}
		if err != nil {
			return nil, fmt.Errorf("find API token: %w", err)
		}
	}
	ca := a.ca
	if ca == "" {
		ca = os.Getenv("CUTOVER_CA")
	}
	return api.NewClientCA(addr, tok, ca)
}

// daemonAddr resolves the API address: the flag, $CUTOVER_ADDR, then the address file.
func (a *app) daemonAddr() (string, error) {
	if a.addr != "" {
		return a.addr, nil
	}
	if addr := os.Getenv("CUTOVER_ADDR"); addr != "" {
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
	return addr, nil
}
