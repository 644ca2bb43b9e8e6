package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completionTimeout bounds how long shell completion waits for the daemon's service names.
const completionTimeout = 2 * time.Second

// addCompletion offers the -o values everywhere and the daemon's service names for the
// SERVICE argument of every command that takes one (its Use names SERVICE).
func (a *app) addCompletion(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.ValidArgsFunction == nil && strings.Contains(cmd.Use, "SERVICE") {
			cmd.ValidArgsFunction = a.completeService
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeService offers, for the first argument, the names of the daemon's services that
// start with toComplete; nothing (and no file names) when the daemon cannot be asked.
func (a *app) completeService(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	dir, err := stateDir(a.stateDir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	a.stateDir = dir
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	defer cancel()
	list, err := c.Services(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, s := range list {
		if strings.HasPrefix(s.Name, toComplete) {
			names = append(names, s.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
