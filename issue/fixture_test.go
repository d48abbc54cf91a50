package issue_test

import (
	"context"
	"log/slog"
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
