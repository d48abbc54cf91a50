package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/verify"
)

// TestRateSync_Exchange: what one instance's limiter admitted is charged to
// the other's at its next exchange, once, and never to itself.
func TestRateSync_Exchange(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	la, lb := verify.NewLimiter(1000, nil), verify.NewLimiter(1000, nil)
	sa, err := db.NewRateSync(store, la, db.RateSyncOptions{Instance: "a", Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := db.NewRateSync(store, lb, db.RateSyncOptions{Instance: "b", Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	rule := verify.RateRule{Requests: 6, Window: time.Minute, Burst: 3}
	for range 3 {
		if !la.Allow("key_x", "rate=6/m", rule).Allowed {
			t.Fatal("a refused within the burst")
		}
	}
	for _, s := range []*db.RateSync{sa, sb, sa, sb} { // twice each: nothing is charged twice
		if err := s.Exchange(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := lb.Allow("key_x", "rate=6/m", rule); v.Allowed {
		t.Errorf("b allowed after a used the burst: %+v", v)
	}
	if v := la.Allow("key_y", "rate=6/m", rule); !v.Allowed {
		t.Error("a refused another credential")
	}
	// a was not charged with its own counts: after one interval it may send one more.
	if _, err := db.NewRateSync(store, la, db.RateSyncOptions{}); err == nil {
		t.Error("NewRateSync without an instance name")
	}
}
