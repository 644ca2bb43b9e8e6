package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/clientconfig"
)

// contextSelection says which context, if any, the command talks to: --context; else none
// when $CUTOVER_ADDR is set (hooks, CI); else $CUTOVER_CONTEXT; else the config's current one
// unless --addr, --state or $CUTOVER_STATE point elsewhere.
func (a *app) contextSelection() (*clientconfig.Context, error) {
	name, from := a.contextName, "--context"
	if name == "" {
		if os.Getenv("CUTOVER_ADDR") != "" {
			return nil, nil
		}
		name, from = os.Getenv("CUTOVER_CONTEXT"), "$CUTOVER_CONTEXT"
	}
	conf, path, err := a.loadContexts()
	if err != nil {
		return nil, err
	}
	if name == "" {
		if conf.Current == "" || a.addr != "" || a.stateFlag || os.Getenv("CUTOVER_STATE") != "" {
			return nil, nil
		}
		name, from = conf.Current, "the current context of "+path
	}
	x, err := conf.Get(name)
	if err != nil {
		return nil, &usageError{err: fmt.Errorf("%s: %w (in %s)", from, err, path)}
	}
	return &x, nil
}

// loadContexts reads the config file.
func (a *app) loadContexts() (*clientconfig.Config, string, error) {
	path, err := clientconfig.Path(os.Getenv)
	if err != nil {
		return nil, "", err
	}
	conf, err := clientconfig.Load(path)
	return conf, path, err
}

// contextClient returns a client of the daemon of context x; --addr, --token and --ca
// still win when given (not for a context named by --from: see sourceClient).
func (a *app) contextClient(x clientconfig.Context, flags bool) (*api.Client, error) {
	addr, tok, ca := x.Addr, "", x.CA
	a.addrFrom, a.tokenFrom = "context "+x.Name, "context "+x.Name
	if flags && a.addr != "" {
		addr, a.addrFrom = a.addr, "--addr"
	}
	if flags && a.ca != "" {
		ca = a.ca
	}
	if flags && a.token != "" {
		tok, a.tokenFrom = a.token, "--token"
	} else {
		var err error
		if tok, err = contextToken(x); err != nil {
			return nil, err
		}
	}
	return api.NewClientCA(addr, tok, ca)
}

// contextToken reads the token a context refers to.
func contextToken(x clientconfig.Context) (string, error) {
	if x.TokenEnv != "" {
		tok := os.Getenv(x.TokenEnv)
		if tok == "" {
			return "", fmt.Errorf("context %s: $%s (its token_env) is empty or unset", x.Name, x.TokenEnv)
		}
		return tok, nil
	}
	tok, err := api.ReadToken(x.TokenFile)
	if err != nil {
		return "", fmt.Errorf("context %s: token_file: %w", x.Name, err)
	}
	return tok, nil
}

// sourceClient returns a client of the daemon of the context named name (deploy --from).
func (a *app) sourceClient(name string) (*api.Client, error) {
	conf, path, err := a.loadContexts()
	if err != nil {
		return nil, err
	}
	x, err := conf.Get(name)
	if err != nil {
		return nil, &usageError{err: fmt.Errorf("--from: %w (in %s)", err, path)}
	}
	return a.contextClient(x, false)
}

func (a *app) contextCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Named daemons (staging, production, …) and which one commands talk to",
		Long: `A context is a named daemon: its API address, where its token is (a file of mode 0600, or
an environment variable; never the token itself) and the CA of an https daemon. They live in
$CUTOVER_CONFIG, else $XDG_CONFIG_HOME/cutover/config.yaml, else ~/.config/cutover/config.yaml.

Which daemon a command talks to: --context NAME; else, when $CUTOVER_ADDR is set, that
address; else $CUTOVER_CONTEXT; else the current context ('cutover context use'), unless
--addr, --state or $CUTOVER_STATE is given; else the daemon of the state directory.
--addr, --token and --ca override one field of the chosen context.`,
		Example: `  cutover context add staging --addr https://staging.example.com:7070 --token-file ~/.config/cutover/staging.token --ca ca.pem
  cutover context add production --addr https://prod.example.com:7070 --token-env CUTOVER_PRODUCTION_TOKEN --ca ca.pem
  cutover context use staging
  cutover --context production status web
  cutover deploy web --context production --from staging --wait`,
	}
	cmd.AddCommand(a.contextAddCmd(), a.contextUseCmd(), a.contextListCmd(), a.contextRemoveCmd())
	return cmd
}

func (a *app) contextAddCmd() *cobra.Command {
	var x clientconfig.Context
	var use bool
	cmd := &cobra.Command{
		Use:   "add NAME --addr ADDR (--token-file F | --token-env VAR) [--ca F] [--use]",
		Short: "Add a context, or replace the one of that name",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			x.Name = args[0]
			return a.editContexts(func(c *clientconfig.Config) (string, error) {
				replaced, err := c.Put(x)
				if err != nil {
					return "", &usageError{err: err}
				}
				msg := "context " + x.Name + " added"
				if replaced {
					msg = "context " + x.Name + " replaced"
				}
				if use {
					c.Current = x.Name
					msg += "; it is the current context"
				}
				return msg, nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&x.Addr, "addr", "", "the daemon's API address: host:port or https://host:port")
	f.StringVar(&x.TokenFile, "token-file", "", "a file holding the token (mode 0600)")
	f.StringVar(&x.TokenEnv, "token-env", "", "an environment variable holding the token (in CI: a secret)")
	f.StringVar(&x.CA, "ca", "", "the CA certificate (PEM) of an https daemon")
	f.BoolVar(&use, "use", false, "make it the current context")
	return cmd
}

func (a *app) contextUseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make a context the current one",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editContexts(func(c *clientconfig.Config) (string, error) {
				if err := c.Use(args[0]); err != nil {
					return "", &usageError{err: err}
				}
				return "current context: " + args[0], nil
			})
		},
	}
}

func (a *app) contextRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a context",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editContexts(func(c *clientconfig.Config) (string, error) {
				if err := c.Remove(args[0]); err != nil {
					return "", &usageError{err: err}
				}
				return "context " + args[0] + " removed", nil
			})
		},
	}
}

func (a *app) contextListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the contexts (the current one marked *); never a token",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			conf, _, err := a.loadContexts()
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, conf)
			}
			tw := newTable(a.stdout)
			fmt.Fprintln(tw, "CURRENT\tNAME\tADDR\tTOKEN\tCA")
			for _, x := range conf.Contexts {
				cur, tok := "", "file "+x.TokenFile
				if x.Name == conf.Current {
					cur = "*"
				}
				if x.TokenEnv != "" {
					tok = "$" + x.TokenEnv
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cur, x.Name, x.Addr, tok, x.CA)
			}
			return tw.Flush()
		},
	}
}

// editContexts loads the config file, applies edit and saves it; it prints edit's message.
func (a *app) editContexts(edit func(*clientconfig.Config) (string, error)) error {
	conf, path, err := a.loadContexts()
	if err != nil {
		return err
	}
	msg, err := edit(conf)
	if err != nil {
		return err
	}
	if err := conf.Save(path); err != nil {
		return err
	}
	if !a.json() {
		fmt.Fprintln(a.stdout, msg)
	}
	return nil
}
