// Package dbtest gives tests a real, migrated Postgres database of their own.
//
// The databases are made on the server that TEST_DATABASE_URL names; 'make test'
// sets it (to DATABASE_URL, or to the private cluster it starts). dbtest reads no
// other variable, so a DATABASE_URL exported for development never gets test
// databases created and dropped on it.
//
// Each test's database is a copy (CREATE DATABASE … TEMPLATE) of a template that
// holds every migration, so a test pays for a file copy instead of a migration.
// See template.go for how the template is made and shared.
package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/verify"
)

// envURL names the server the test databases are made on.
const envURL = "TEST_DATABASE_URL"

// URL returns a connection URL for a new database of the test's own, with every
// migration applied, on the server TEST_DATABASE_URL names. The database is
// dropped when the test ends. Without TEST_DATABASE_URL the test fails, saying
// how to set it.
func URL(t testing.TB) string {
	t.Helper()
	server := serverURL(t)
	tmpl, err := migratedTemplate(server)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return create(t, server, tmpl)
}

// EmptyURL is URL for a database without the migrations, for tests of
// migrating itself.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return create(t, serverURL(t), "")
}

// AdminURL returns TEST_DATABASE_URL: a connection to the server outside the
// test's database, for statements about that database (ALTER DATABASE,
// pg_terminate_backend).
func AdminURL(t testing.TB) string {
	t.Helper()
	return serverURL(t).String()
}

// New returns an open, migrated store on a database of the test's own.
func New(t testing.TB) *db.DB {
	t.Helper()
	store, err := db.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store
}

// Exec runs a statement on the test's database, for arranging states the API cannot reach.
func Exec(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", sql, err))
	}
}

func serverURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv(envURL)
	if raw == "" {
		t.Fatal(envURL + " is not set. Run the tests with 'make test', which sets it (to DATABASE_URL, " +
			"or to a private Postgres it starts), or export " + envURL + "=$(scripts/devdb.sh start), " +
			"or any postgres://user@host:port/db URL of a server where this role may CREATE DATABASE. " +
			"(The tests do not read DATABASE_URL, so they never create and drop databases on the server you work against.)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("%s is not a URL: use the postgres://user@host:port/db form (%v)", envURL, err)
	}
	return u
}

// create makes a database named for the test, as a copy of tmpl unless tmpl is
// empty, and drops it when the test ends.
func create(t testing.TB, server *url.URL, tmpl string) string {
	t.Helper()
	name := "authgate_test_" + strings.ToLower(verify.RandomString(12))
	stmt := "CREATE DATABASE " + name
	if tmpl != "" {
		stmt += " TEMPLATE " + tmpl
	}
	if err := onServer(server, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := onServer(server, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(server, name)
}

// onServer runs one statement on a connection of its own to the server.
func onServer(server *url.URL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.String())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", envURL, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabase returns server's URL with the database name replaced.
func withDatabase(server *url.URL, name string) string {
	u := *server
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}
