package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestURL_IsMigratedAndOwn(t *testing.T) {
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	if got := tables(t, a); got == 0 {
		t.Fatal("URL's database has no tables; want every migration applied")
	}
	Exec(t, a, "CREATE TABLE only_in_a (x int)")
	if got, want := tables(t, b), tables(t, a)-1; got != want {
		t.Fatalf("the other database has %d tables; want %d (a copy, not a share)", got, want)
	}
}

func TestEmptyURL_HasNoTables(t *testing.T) {
	if got := tables(t, EmptyURL(t)); got != 0 {
		t.Fatalf("EmptyURL's database has %d tables; want 0", got)
	}
}

func TestURL_WithoutTestDatabaseURLSaysHowToSetIt(t *testing.T) {
	t.Setenv(envURL, "")
	t.Setenv("DATABASE_URL", "postgres://someone@127.0.0.1:1/theirs")
	r := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }() // fatalRecorder stops URL with a panic
		URL(r)
	}()
	for _, want := range []string{envURL, "make test", "scripts/devdb.sh start"} {
		if !strings.Contains(r.msg, want) {
			t.Errorf("message %q does not mention %q", r.msg, want)
		}
	}
}

// BenchmarkURL is the cost of a test's database: a copy of the template.
func BenchmarkURL(b *testing.B) {
	for b.Loop() {
		URL(b)
	}
}

// BenchmarkEmptyURLMigrated is what a test's database cost before the template.
func BenchmarkEmptyURLMigrated(b *testing.B) {
	for b.Loop() {
		if err := migrate(context.Background(), EmptyURL(b)); err != nil {
			b.Fatal(err)
		}
	}
}

func tables(t *testing.T, dbURL string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fatalRecorder is a testing.TB whose Fatal records the message and stops the
// caller with a panic, without failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	panic(r)
}
