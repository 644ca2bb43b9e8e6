package clientconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutUseSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cutover", "config.yaml")
	c, err := Load(path)
	if err != nil || len(c.Contexts) != 0 {
		t.Fatalf("missing file: %+v, %v", c, err)
	}
	for _, x := range []Context{
		{Name: "staging", Addr: "127.0.0.1:7070", TokenFile: "/tmp/staging.token"},
		{Name: "production", Addr: "https://prod:7070", TokenEnv: "PROD_TOKEN", CA: "/ca.pem"},
	} {
		if _, err := c.Put(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Use("production"); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600", info.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := got.Get("production")
	if err != nil || got.Current != "production" || p.TokenEnv != "PROD_TOKEN" || p.CA != "/ca.pem" {
		t.Fatalf("reloaded: %+v, %v", got, err)
	}
	if _, err := got.Get("prod"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "staging, production") {
		t.Fatalf("unknown context: %v, want ErrUnknown listing the contexts", err)
	}
	if err := got.Remove("production"); err != nil || got.Current != "" {
		t.Fatalf("remove current: %v, current %q", err, got.Current)
	}
}

func TestCheckRefusesBadContexts(t *testing.T) {
	for name, x := range map[string]Context{
		"name":            {Name: "Prod!", Addr: "a:1", TokenEnv: "T"},
		"addr":            {Name: "p", TokenEnv: "T"},
		"addr \"ftp":      {Name: "p", Addr: "ftp://a:1", TokenEnv: "T"},
		"token_file":      {Name: "p", Addr: "a:1"},
		"token_env":       {Name: "p", Addr: "a:1", TokenEnv: "NOT A NAME"},
		"token_file and ": {Name: "p", Addr: "a:1", TokenEnv: "T", TokenFile: "/f"},
	} {
		if err := x.Check(); err == nil || !strings.Contains(err.Error(), strings.TrimSpace(name)) {
			t.Errorf("%+v: %v, want an error naming %s", x, err, name)
		}
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"unknown field": "contexts:\n- name: p\n  addr: a:1\n  token: secret\n",
		"twice":         "contexts:\n- {name: p, addr: 'a:1', token_env: T}\n- {name: p, addr: 'a:1', token_env: T}\n",
		"current":       "current: q\ncontexts:\n- {name: p, addr: 'a:1', token_env: T}\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
