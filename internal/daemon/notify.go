package daemon

import (
	"os"

	"github.com/cutover/cutover/internal/notify"
)

// loadNotifyTargets reads serve --notify-config ("" : no daemon-wide targets).
func loadNotifyTargets(path string) ([]notify.Target, error) {
	if path == "" {
		return nil, nil
	}
	return notify.LoadConfig(path)
}

// hostname names this machine in notifications ("localhost" when it cannot be read).
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
