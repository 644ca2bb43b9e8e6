package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/cutover/cutover/internal/buildinfo"
	"io/fs"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/handoff"
)

// BuildVersion is the version this binary reports: Version, else the module's, else "devel".
func BuildVersion() string { return buildinfo.Read(Version).Version }

func (a *app) upgradeCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Restart the daemon, or upgrade it to a new binary, without a failed request",
		Long: `Hand the running daemon (the one serving --state) over to a new process of its own
executable, read again from disk: replace the binary first and this upgrades cutover. The
same happens on SIGHUP ('kill -HUP $(cat <state>/cutover.pid)'); this command sends it and
waits for the outcome.

The new process inherits the API and route sockets and the state lock, adopts the running
instances (they are never restarted) and resumes any deployment; once it serves, the old one
stops accepting, finishes its in-flight requests and exits. If the new process does not
serve within serve's --handoff-timeout, it is stopped and the old one keeps serving; this
command then exits non-zero with the reason.`,
		Example: `  cp cutover-new /usr/local/bin/cutover && cutover upgrade
  cutover upgrade --state /var/lib/cutover -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usagef("--timeout %s: want a duration above 0", timeout)
			}
			st, err := a.upgrade(cmd.Context(), timeout)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, st)
			}
			fmt.Fprintf(a.stdout, "handed over: pid %d (%s) -> pid %d (%s); pid %d drains and exits\n",
				st.OldPID, st.OldVersion, st.NewPID, st.Version, st.OldPID)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the outcome")
	return cmd
}

// upgrade signals the daemon and waits until it records the outcome of the hand-off.
func (a *app) upgrade(ctx context.Context, timeout time.Duration) (handoff.Status, error) {
	pid, err := handoff.ReadPIDFile(a.stateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return handoff.Status{}, fmt.Errorf("upgrade: no daemon serves %s (no %s there)", a.stateDir, handoff.PIDFile)
	}
	if err != nil {
		return handoff.Status{}, fmt.Errorf("upgrade: %w", err)
	}
	before, _, err := handoff.ReadStatus(a.stateDir)
	if err != nil {
		return handoff.Status{}, fmt.Errorf("upgrade: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return handoff.Status{}, fmt.Errorf("upgrade: signal daemon pid %d: %w", pid, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return handoff.Status{}, fmt.Errorf("upgrade: daemon pid %d recorded no outcome within %s", pid, timeout)
		case <-tick.C:
		}
		st, ok, err := handoff.ReadStatus(a.stateDir)
		if err != nil || !ok || st.OldPID != pid || st.At.Equal(before.At) {
			continue
		}
		if !st.OK {
			return st, fmt.Errorf("upgrade: hand-off failed, pid %d keeps serving: %s", pid, st.Error)
		}
		return st, nil
	}
}
