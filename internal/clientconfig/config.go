// Package clientconfig owns the CLI's contexts: named daemons (staging, production, …), each
// with its API address, where its token is found and the CA that vouches for it, and which
// one is current, as kubectl contexts and Kamal destinations are. A context never holds a
// token: it names a file (mode 0600) or an environment variable that does. It reads and
// writes the config file and resolves a context; it knows nothing of the API.
package clientconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/cutover/cutover/internal/atomicfile"
	"github.com/cutover/cutover/internal/yamlread"
)

// Context is one named daemon.
type Context struct {
	Name string `yaml:"name" json:"name"`
	// Addr is the daemon's API address: host:port (http) or an http(s):// URL.
	Addr string `yaml:"addr" json:"addr"`
	// TokenFile is a file holding the token (mode 0600); TokenEnv an environment variable
	// holding it. Exactly one is set.
	TokenFile string `yaml:"token_file,omitempty" json:"token_file,omitempty"`
	TokenEnv  string `yaml:"token_env,omitempty" json:"token_env,omitempty"`
	// CA is a PEM file of the CA that vouches for an https daemon's certificate.
	CA string `yaml:"ca,omitempty" json:"ca,omitempty"`
}

// Config is the CLI's config file.
type Config struct {
	Current  string    `yaml:"current,omitempty" json:"current,omitempty"`
	Contexts []Context `yaml:"contexts" json:"contexts"`
}

// ErrUnknown is the error of a context name the file does not hold.
var ErrUnknown = errors.New("unknown context")

// limits bound the config file: it is small and written by people or this package.
var limits = yamlread.Limits{Bytes: 64 << 10, Depth: 8, Aliases: 16, Nodes: 10_000, ExpandedBytes: 256 << 10}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	envPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Path is the config file: $CUTOVER_CONFIG, else $XDG_CONFIG_HOME/cutover/config.yaml,
// else ~/.config/cutover/config.yaml.
func Path(getenv func(string) string) (string, error) {
	if p := getenv("CUTOVER_CONFIG"); p != "" {
		return p, nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "cutover", "config.yaml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the config file (set CUTOVER_CONFIG): %w", err)
	}
	return filepath.Join(home, ".config", "cutover", "config.yaml"), nil
}

// Load reads the config file at path; a missing file is an empty config. Every context in
// it is checked: an error names the file and the context.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := yamlread.Unmarshal(data, &c, limits, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, ctx := range c.Contexts {
		if err := ctx.Check(); err != nil {
			return nil, fmt.Errorf("read config %s: %w", path, err)
		}
		if seen[ctx.Name] {
			return nil, fmt.Errorf("read config %s: context %q appears twice", path, ctx.Name)
		}
		seen[ctx.Name] = true
	}
	if c.Current != "" && !seen[c.Current] {
		return nil, fmt.Errorf("read config %s: current context %q: %w", path, c.Current, ErrUnknown)
	}
	return &c, nil
}

// Save writes c to path whole (temp file, fsync, rename), mode 0600, creating its directory
// (0700) when needed.
func (c *Config) Save(path string) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("write config %s: %w", path, err)
	}
	return nil
}

// Check reports the first problem of the context, naming its field.
func (x Context) Check() error {
	switch {
	case !namePattern.MatchString(x.Name):
		return fmt.Errorf("context %q: name: want 1-63 lowercase letters, digits, '.', '_' or '-'", x.Name)
	case x.Addr == "":
		return fmt.Errorf("context %s: addr: missing (host:port or https://host:port)", x.Name)
	case strings.Contains(x.Addr, "://") && !strings.HasPrefix(x.Addr, "http://") && !strings.HasPrefix(x.Addr, "https://"):
		return fmt.Errorf("context %s: addr %q: want host:port, http:// or https://", x.Name, x.Addr)
	case (x.TokenFile == "") == (x.TokenEnv == ""):
		return fmt.Errorf("context %s: give exactly one of token_file and token_env (a context never holds the token itself)", x.Name)
	case x.TokenEnv != "" && !envPattern.MatchString(x.TokenEnv):
		return fmt.Errorf("context %s: token_env %q: not an environment variable name", x.Name, x.TokenEnv)
	}
	return nil
}

// Get returns the context named name, or an error wrapping ErrUnknown that lists those there are.
func (c *Config) Get(name string) (Context, error) {
	for _, x := range c.Contexts {
		if x.Name == name {
			return x, nil
		}
	}
	return Context{}, fmt.Errorf("context %q: %w; %s", name, ErrUnknown, c.known())
}

// Put adds x, or replaces the context of its name; it reports whether it replaced one.
func (c *Config) Put(x Context) (bool, error) {
	if err := x.Check(); err != nil {
		return false, err
	}
	for i := range c.Contexts {
		if c.Contexts[i].Name == x.Name {
			c.Contexts[i] = x
			return true, nil
		}
	}
	c.Contexts = append(c.Contexts, x)
	return false, nil
}

// Use makes the context named name the current one.
func (c *Config) Use(name string) error {
	if _, err := c.Get(name); err != nil {
		return err
	}
	c.Current = name
	return nil
}

// Remove deletes the context named name (and makes none current if it was).
func (c *Config) Remove(name string) error {
	i := slices.IndexFunc(c.Contexts, func(x Context) bool { return x.Name == name })
	if i < 0 {
		return fmt.Errorf("context %q: %w; %s", name, ErrUnknown, c.known())
	}
	c.Contexts = slices.Delete(c.Contexts, i, i+1)
	if c.Current == name {
		c.Current = ""
	}
	return nil
}

func (c *Config) known() string {
	if len(c.Contexts) == 0 {
		return "there are none: add one with 'cutover context add'"
	}
	names := make([]string, len(c.Contexts))
	for i, x := range c.Contexts {
		names[i] = x.Name
	}
	return "the contexts are " + strings.Join(names, ", ")
}
