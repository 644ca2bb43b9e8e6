package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// watchEvery is how often status --watch redraws.
const watchEvery = 500 * time.Millisecond

// clearScreen moves the cursor home and clears the terminal.
const clearScreen = "\x1b[H\x1b[2J"

func (a *app) statusCmd() *cobra.Command {
	var watch bool
	var files []string
	cmd := &cobra.Command{
		Use:   "status [SERVICE] | status -f compose.yaml",
		Short: "Show services, or one service's revisions, traffic and instances",
		Long: `Show every service, or one service in detail: its stable revision, strategy, route,
the deployment in progress, the traffic weight of each revision and its instances.

With --watch the screen is redrawn every 500ms until Ctrl-C (text output only); into a pipe
or a file, each frame follows the last, without the codes that clear a terminal.`,
		Example: `  cutover status
  cutover status web --watch
  cutover status web -o json
  cutover status -f compose.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(files) > 0 {
				return a.stackStatus(cmd.Context(), files)
			}
			if watch && a.json() {
				return usagef("--watch shows text only; drop -o json")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			if watch {
				return a.watchStatus(cmd.Context(), c, name)
			}
			return a.status(cmd.Context(), c, name, a.stdout)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw every 500ms until Ctrl-C")
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "show each service of this compose stack: kind, revision, state")
	return cmd
}

// status prints one service, or all of them when name is empty.
func (a *app) status(ctx context.Context, c *api.Client, name string, w io.Writer) error {
	if name == "" {
		list, err := c.Services(ctx)
		if err != nil {
			return err
		}
		if a.json() {
			return printJSON(w, list)
		}
		printServices(w, list)
		return nil
	}
	s, err := c.Service(ctx, name)
	if err != nil {
		return err
	}
	if a.json() {
		return printJSON(w, s)
	}
	printService(w, s)
	return nil
}

// watchStatus redraws the status until ctx ends. A failure of the first draw is returned;
// later ones are shown in place, as the daemon may come back.
func (a *app) watchStatus(ctx context.Context, c *api.Client, name string) error {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for first := true; ; first = false {
		var frame bytes.Buffer
		if err := a.status(ctx, c, name, &frame); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if first {
				return err
			}
			fmt.Fprintf(&frame, "error: %v\n", err)
		}
		if isTerminal(a.stdoutFile) {
			a.control(clearScreen)
		}
		fmt.Fprintf(a.stdout, "%s\n(every %v, %s; Ctrl-C to stop)\n", frame.String(),
			watchEvery, time.Now().Format("15:04:05"))
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// printServices prints the table of every service.
func printServices(w io.Writer, list []api.Service) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no services yet: deploy one with 'cutover deploy SERVICE --spec FILE'")
		return
	}
	t := newTable(w)
	row(t, "SERVICE", "STABLE", "STRATEGY", "URL", "DEPLOYMENT", "INSTANCES")
	for _, s := range list {
		row(t, s.Name, revision(s.Stable), orDash(s.Strategy), orDash(s.URL),
			deploymentSummary(s.Deployment), readyCount(s.Instances))
	}
	t.Flush()
}

// printService prints one service in detail, then its instances.
func printService(w io.Writer, s api.Service) {
	t := newTable(w)
	row(t, "service:", s.Name)
	row(t, "stable:", revision(s.Stable))
	row(t, "strategy:", orDash(s.Strategy))
	row(t, "route:", routeText(s))
	row(t, "deployment:", deploymentSummary(s.Deployment))
	if d := s.LastDeployment; s.Deployment == nil && d != nil {
		row(t, "last deployment:", deploymentSummary(d))
	}
	if d := cmp.Or(s.Deployment, s.LastDeployment); d != nil && d.Verdict != nil {
		row(t, "verdict:", verdictText(*d.Verdict))
	}
	row(t, "weights:", weights(s.Weights))
	if len(s.Traffic) > 0 {
		row(t, "traffic:", traffic(s.Traffic))
	}
	row(t, "instances:", readyCount(s.Instances))
	t.Flush()
	if len(s.Instances) == 0 {
		return
	}
	fmt.Fprintln(w)
	t = newTable(w)
	row(t, "INSTANCE", "REVISION", "STATE", "READY", "TARGET", "ADDR", "RESTARTS", "CPU", "MEMORY", "MESSAGE")
	for _, in := range s.Instances {
		row(t, in.ID, strconv.Itoa(in.Revision), orDash(in.State), yesNo(in.Ready), yesNo(in.Target),
			orDash(in.Addr), strconv.Itoa(in.Restarts), cpuText(in.CPUPercent), memoryText(in.MemoryBytes), orDash(in.Message))
	}
	t.Flush()
}

// routeText is the URL, then the hosts and paths the route matches, if any.
func routeText(s api.Service) string {
	parts := []string{orDash(s.URL)}
	if len(s.Hosts) > 0 {
		parts = append(parts, "hosts "+strings.Join(s.Hosts, ","))
	}
	if len(s.Paths) > 0 {
		parts = append(parts, "paths "+strings.Join(s.Paths, ","))
	}
	return strings.Join(parts, "  ")
}

// revision renders a revision number, "-" for none.
func revision(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// readyCount is "2/3 ready".
func readyCount(list []api.Instance) string {
	ready := 0
	for _, in := range list {
		if in.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d ready", ready, len(list))
}

// cpuText is an instance's CPU use as a percentage of one core, "-" when unknown.
func cpuText(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

// memoryText is an instance's resident memory in MiB, "-" when unknown.
func memoryText(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
