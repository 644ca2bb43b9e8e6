package app

import (
	"errors"
	"fmt"
	"strings"
)

// schema says which columns of the users table the app reads and writes: the three stages of
// renaming users.name to users.full_name without breaking a serving revision.
type schema string

const (
	schemaV0 schema = "v0" // reads and writes name
	schemaV1 schema = "v1" // writes name and full_name; reads full_name, falling back to name
	schemaV2 schema = "v2" // reads and writes full_name only
)

// dbConfig is the database mode, on when DEMO_DB_SCHEMA is set. DATABASE_URL alone does not
// turn it on: specs that bind a database set it for their migrations whatever the app does.
type dbConfig struct {
	URL    string // DATABASE_URL: a postgres:// DSN or an SQLite file path
	Driver string // DB_DRIVER: postgres (default) or sqlite
	Schema schema // DEMO_DB_SCHEMA: v0, v1 or v2
	// Create (DEMO_DB_CREATE=1) makes an SQLite database create its users table (schema v0)
	// when it has none, as a database server initializes its data directory on first start.
	Create bool
}

// enabled reports whether the app serves /users from a database.
func (c dbConfig) enabled() bool { return c.Schema != "" }

// loadDBConfig reads the database variables when DEMO_DB_SCHEMA is set.
func loadDBConfig(getenv func(string) string) (dbConfig, []error) {
	c := dbConfig{Schema: schema(getenv("DEMO_DB_SCHEMA"))}
	if c.Schema == "" {
		return c, nil
	}
	c.URL, c.Driver, c.Create = getenv("DATABASE_URL"), getenv("DB_DRIVER"), getenv("DEMO_DB_CREATE") == "1"
	var errs []error
	switch c.Schema {
	case schemaV0, schemaV1, schemaV2:
	default:
		errs = append(errs, fmt.Errorf("DEMO_DB_SCHEMA %q: want v0, v1 or v2", c.Schema))
	}
	if c.URL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required with DEMO_DB_SCHEMA"))
	}
	switch strings.ToLower(c.Driver) {
	case "", "postgres", "postgresql", "pgx":
		c.Driver = "postgres"
	case "sqlite", "sqlite3":
		c.Driver = "sqlite"
	default:
		errs = append(errs, fmt.Errorf("DB_DRIVER %q: want postgres or sqlite", c.Driver))
	}
	return c, errs
}
