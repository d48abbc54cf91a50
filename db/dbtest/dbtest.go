// Package dbtest gives tests a real, migrated Postgres database of their own.
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

// URL returns a connection URL for a new, empty database on the server named by
// DATABASE_URL, dropped when the test ends. Without DATABASE_URL the test fails:
// run the tests with 'make test', which starts a private Postgres when needed.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with 'make test', which starts a private Postgres, or set DATABASE_URL to a server where this role may CREATE DATABASE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	name := "authgate_test_" + strings.ToLower(verify.RandomString(12))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DATABASE_URL is not a URL (use the postgres://user@host:port/db form): %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New returns an open, migrated store on a database of the test's own.
func New(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
