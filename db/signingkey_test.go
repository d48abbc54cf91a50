package db_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
)

func TestDB_SigningKeyListAndRetire(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	for i, k := range []issue.SigningKey{
		{KID: "es-old", Alg: "ES256", PublicKey: []byte("pub1")},
		{KID: "ed", Alg: "EdDSA", PublicKey: []byte("pub2")},
		{KID: "es-new", Alg: "ES256", PublicKey: []byte("pub3")},
	} {
		k.PrivateKey, k.CreatedAt = []byte("sealed-"+k.KID), t0.Add(time.Duration(i)*time.Minute)
		if err := store.SigningKeyInsert(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SigningKeyInsert(ctx, issue.SigningKey{KID: "ed", Alg: "EdDSA", CreatedAt: t0}); !errors.Is(err, issue.ErrConflict) {
		t.Errorf("SigningKeyInsert(taken kid) err = %v; want ErrConflict", err)
	}
	if err := store.SigningKeyInsert(ctx, issue.SigningKey{KID: "rs", Alg: "RS256", CreatedAt: t0}); !errors.Is(err, issue.ErrInvalid) {
		t.Errorf("SigningKeyInsert(RS256) err = %v; want ErrInvalid", err)
	}
	retire := t0.Add(time.Hour)
	if err := store.SigningKeyRetire(ctx, "ES256", retire); err != nil {
		t.Fatal(err)
	}
	// A second retirement leaves the first retire_at.
	store.SigningKeyRetire(ctx, "ES256", retire.Add(time.Hour))
	for _, tc := range []struct {
		name string
		now  time.Time
		want []string
	}{
		{"BeforeRetireNewestFirst", t0, []string{"es-new", "ed", "es-old"}},
		{"AtRetire", retire, []string{"ed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := store.SigningKeyList(ctx, tc.now)
			var got []string
			for _, k := range keys {
				got = append(got, k.KID)
				if k.Alg == "ES256" && (k.RetireAt == nil || !k.RetireAt.Equal(retire)) {
					t.Errorf("%s retire_at = %v; want %v", k.KID, k.RetireAt, retire)
				}
				if k.Alg == "EdDSA" && (k.RetireAt != nil || string(k.PrivateKey) != "sealed-ed" || string(k.PublicKey) != "pub2") {
					t.Errorf("ed = %+v; want unretired, its keys intact", k)
				}
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("SigningKeyList = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestDB_SigningKeyLock(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	if err := store.SigningKeyLock(ctx); err == nil {
		t.Fatal("SigningKeyLock outside a transaction: err = nil; want an error")
	}
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- store.InTx(ctx, func(tx issue.Store) error {
			if err := tx.SigningKeyLock(ctx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := store.InTx(waitCtx, func(tx issue.Store) error { return tx.SigningKeyLock(waitCtx) })
	if err == nil {
		t.Fatal("second SigningKeyLock while another transaction holds it: err = nil; want it to wait")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := store.InTx(ctx, func(tx issue.Store) error { return tx.SigningKeyLock(ctx) }); err != nil {
		t.Fatalf("SigningKeyLock after release: %v", err)
	}
}

func TestDB_SigningKeyChangesAreAnnounced(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	a := listenTo(t, store, db.ChannelSigningKeys)
	if err := store.SigningKeyInsert(ctx, issue.SigningKey{KID: "k1", Alg: "EdDSA", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := store.SigningKeyRetire(ctx, "EdDSA", t0); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "k1", "k1")
}
