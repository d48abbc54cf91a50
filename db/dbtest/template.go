package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/db"
)

// The template database is named after the content of the migrations, so it is
// made once per set of migrations and server, not once per test binary: the
// test binaries of one 'go test ./...' run (and the next runs) find it made. A
// change to the migrations makes a template of another name. Old templates stay
// on the server ('make clean' removes the private cluster with them).
const (
	templatePrefix = "authgate_tmpl_"
	buildPrefix    = "authgate_tmpl_build_" // a template being migrated, not yet ready
	// templateLock is the advisory lock (in the database TEST_DATABASE_URL names)
	// held by whoever checks for and makes a template, so two binaries never
	// make one at once.
	templateLock int64 = 0x6175746867617465 // "authgate"
)

// tmpl makes the template at most once per test binary.
var tmpl struct {
	once sync.Once
	name string
	err  error
}

func migratedTemplate(server *url.URL) (string, error) {
	tmpl.once.Do(func() { tmpl.name, tmpl.err = ensureTemplate(server) })
	return tmpl.name, tmpl.err
}

// ensureTemplate returns the name of the template for the current migrations,
// making it if the server has none. It is made under a build name and renamed
// when done, so a template under its final name is always complete, whatever
// happened to the process that made it. It accepts no connections, which
// CREATE DATABASE … TEMPLATE needs, and is marked a template, so that any
// role with CREATEDB may copy it.
func ensureTemplate(server *url.URL) (string, error) {
	hash, err := migrationsHash()
	if err != nil {
		return "", fmt.Errorf("hash the migrations: %w", err)
	}
	name, build := templatePrefix+hash, buildPrefix+hash
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, server.String())
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", envURL, err)
	}
	defer admin.Close(context.Background()) // also lets go of the lock
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("wait for the template lock: %w", err)
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if err := dropBuilds(ctx, admin); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return "", fmt.Errorf("create template database: %w", err)
	}
	if err := migrate(ctx, withDatabase(server, build)); err != nil {
		return "", fmt.Errorf("migrate template database: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+build+" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"); err != nil {
		return "", fmt.Errorf("mark the template: %w", err)
	}
	// The migration's pool is closed, but its backends may take a moment to go,
	// and RENAME needs them gone.
	for {
		_, err := admin.Exec(ctx, "ALTER DATABASE "+build+" RENAME TO "+name)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "55006" { // object_in_use
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("rename the template: %w", err)
		}
		return name, nil
	}
}

// dropBuilds drops the templates that a test binary began and never finished
// (it was killed): under the lock, nobody else is building one.
func dropBuilds(ctx context.Context, admin *pgx.Conn) error {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", buildPrefix)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		for _, stmt := range []string{"ALTER DATABASE " + n + " WITH IS_TEMPLATE false", "DROP DATABASE " + n + " WITH (FORCE)"} {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("drop unfinished template: %s: %w", stmt, err)
			}
		}
	}
	return nil
}

func migrate(ctx context.Context, dbURL string) error {
	store, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

// migrationsHash is a digest of the migrations' names and contents.
func migrationsHash() (string, error) {
	h, fsys := sha256.New(), db.Migrations()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}
