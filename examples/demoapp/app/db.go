package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver (pure Go)
)

// maxDBConns bounds each instance's connections, so many instances and revisions running side
// by side during a deployment stay well under PostgreSQL's default max_connections of 100.
const maxDBConns = 8

// errNoUser is returned for an id that is not in the table.
var errNoUser = errors.New("no such user")

// usersDB reads and writes the users table in the columns of one schema. It is safe for
// concurrent use; the caller closes it.
type usersDB struct {
	db *sql.DB
	q  userQueries
}

// userQueries are one schema's statements: $1 is the name (or the id for get), $2 the id.
type userQueries struct {
	check, insert, get, update string
}

var queriesBySchema = map[schema]userQueries{
	schemaV0: {
		check:  "SELECT id, name FROM users WHERE false",
		insert: "INSERT INTO users (name) VALUES ($1) RETURNING id",
		get:    "SELECT name FROM users WHERE id = $1",
		update: "UPDATE users SET name = $1 WHERE id = $2",
	},
	schemaV1: {
		check:  "SELECT id, name, full_name FROM users WHERE false",
		insert: "INSERT INTO users (name, full_name) VALUES ($1, $1) RETURNING id",
		get:    "SELECT COALESCE(full_name, name) FROM users WHERE id = $1",
		update: "UPDATE users SET name = $1, full_name = $1 WHERE id = $2",
	},
	schemaV2: {
		check:  "SELECT id, full_name FROM users WHERE false",
		insert: "INSERT INTO users (full_name) VALUES ($1) RETURNING id",
		get:    "SELECT full_name FROM users WHERE id = $1",
		update: "UPDATE users SET full_name = $1 WHERE id = $2",
	},
}

// createUsersV0 is the users table of schema v0, for DEMO_DB_CREATE.
const createUsersV0 = "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, name text NOT NULL)"

// openUsers opens the database of c without connecting: the app starts even while the
// database is down, and readiness (check) tells the proxy when it can serve.
func openUsers(c dbConfig) (*usersDB, error) {
	name, dsn := "pgx", c.URL
	if c.Driver == "sqlite" {
		name = "sqlite"
		if !strings.Contains(dsn, "_pragma=") {
			// Several instances write one file: wait for the lock instead of failing at once.
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		}
	}
	db, err := sql.Open(name, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", c.Driver, err)
	}
	db.SetMaxOpenConns(maxDBConns)
	db.SetMaxIdleConns(maxDBConns)
	if c.Create && c.Driver == "sqlite" {
		if _, err := db.Exec(createUsersV0); err != nil {
			db.Close()
			return nil, fmt.Errorf("create the users table: %w", err)
		}
	}
	return &usersDB{db: db, q: queriesBySchema[c.Schema]}, nil
}

// Close closes the connection pool.
func (u *usersDB) Close() error { return u.db.Close() }

// check reports whether the database answers and has every column the schema uses.
func (u *usersDB) check(ctx context.Context) error {
	rows, err := u.db.QueryContext(ctx, u.q.check)
	if err != nil {
		return err
	}
	return rows.Close()
}

// create inserts a user and returns its id.
func (u *usersDB) create(ctx context.Context, name string) (int64, error) {
	var id int64
	err := u.db.QueryRowContext(ctx, u.q.insert, name).Scan(&id)
	return id, err
}

// get returns the user's name, or errNoUser.
func (u *usersDB) get(ctx context.Context, id int64) (string, error) {
	var name sql.NullString
	err := u.db.QueryRowContext(ctx, u.q.get, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNoUser
	}
	return name.String, err
}

// update renames the user, or returns errNoUser.
func (u *usersDB) update(ctx context.Context, id int64, name string) error {
	res, err := u.db.ExecContext(ctx, u.q.update, name, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errNoUser
	}
	return nil
}
