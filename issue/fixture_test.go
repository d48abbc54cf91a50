package issue_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// bundle is a service on a database of the test's own, with a clock the test moves.
type bundle struct {
	url    string // the test database, for arranging states the API cannot reach (dbtest.Exec)
	store  *db.DB
	hasher *verify.Hasher
	svc    *issue.Service
	now    time.Time
}

func setup(t *testing.T) *bundle {
	t.Helper()
	h, err := verify.NewHasher(map[int16][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{url: dbtest.URL(t), hasher: h, now: t0}
	if b.store, err = db.Open(context.Background(), b.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.store.Close)
	if err := b.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.svc = issue.NewService(b.store, h, func() time.Time { return b.now }, issue.Options{})
	return b
}

// verifier authenticates against the bundle's database with the bundle's clock.
func (b *bundle) verifier(t *testing.T) *verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(b.store, b.hasher, verify.Options{
		Now: func() time.Time { return b.now }, Logger: slog.New(slog.DiscardHandler), Tokens: b.store})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// audit returns every audit row, oldest first.
func (b *bundle) audit(t *testing.T) []issue.AuditEntry {
	t.Helper()
	rows, err := b.store.AuditList(context.Background(), issue.AuditFilter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rows)
	return rows
}

// eventually polls cond every 10ms until it holds, failing the test with
// what when it does not within timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// must returns v, ending the test at once (t.Fatal) when err is set; it reads
// must(f())(t), since Go cannot mix t with f's two results in one call.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
