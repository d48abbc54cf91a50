package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
)

func TestDB_SecretInit(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	got, err := store.SecretInit(ctx, a, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (db.ServerSecret{Fingerprint: a, MACVersion: 1, UpdatedAt: t0}); got != want {
		t.Errorf("SecretInit(new) = %+v; want %+v", got, want)
	}
	// A second start, under whatever secret, reads the first one's record.
	again, err := store.SecretInit(ctx, b, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again != got {
		t.Errorf("SecretInit(recorded) = %+v; want %+v", again, got)
	}
	if _, err := store.SecretInit(ctx, "not hex", t0); err == nil {
		t.Error("SecretInit(not a fingerprint) err = nil; want a check violation")
	}
}

func TestDB_SecretRotate(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	from, err := store.SecretInit(ctx, a, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []issue.SigningKey{
		{KID: "es", Alg: "ES256", PublicKey: []byte("p"), PrivateKey: []byte("sealed-es")},
		{KID: "old", Alg: "EdDSA", PublicKey: []byte("p"), PrivateKey: []byte("sealed-old"), RetireAt: &t0},
		{KID: "keep", Alg: "ES256", PublicKey: []byte("p"), PrivateKey: []byte("sealed-keep")},
		{KID: "hs", Alg: "HS256"},
	} {
		k.CreatedAt = t0
		if err := store.SigningKeyInsert(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	to := db.ServerSecret{Fingerprint: b, MACVersion: 2, PreviousFingerprint: a, UpdatedAt: t0.Add(time.Hour)}
	var seen []string
	reseal := func(kid string, sealed []byte) ([]byte, error) {
		seen = append(seen, kid)
		if kid == "keep" {
			return nil, nil
		}
		return []byte("new-" + string(sealed)), nil
	}

	t.Run("Conflict", func(t *testing.T) {
		stale := from
		stale.MACVersion = 7
		if err := store.SecretRotate(ctx, stale, to, reseal); !errors.Is(err, issue.ErrConflict) {
			t.Errorf("SecretRotate(stale from) err = %v; want ErrConflict", err)
		}
	})
	t.Run("ResealFails", func(t *testing.T) {
		boom := errors.New("boom")
		err := store.SecretRotate(ctx, from, to, func(string, []byte) ([]byte, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Errorf("SecretRotate(failing reseal) err = %v; want boom", err)
		}
		if got, _ := store.SecretInit(ctx, b, t0); got != from {
			t.Errorf("record after a failed rotation = %+v; want %+v", got, from)
		}
	})
	t.Run("Rotates", func(t *testing.T) {
		seen = nil
		if err := store.SecretRotate(ctx, from, to, reseal); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(seen, " "); got != "es keep old" {
			t.Errorf("resealed kids = %q; want %q (every sealed key, not HS256)", got, "es keep old")
		}
		got, err := store.SecretInit(ctx, a, t0)
		if err != nil {
			t.Fatal(err)
		}
		if got != to {
			t.Errorf("record = %+v; want %+v", got, to)
		}
		keys, err := store.SigningKeyList(ctx, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"es": "new-sealed-es", "old": "new-sealed-old", "keep": "sealed-keep", "hs": ""}
		for _, k := range keys {
			if string(k.PrivateKey) != want[k.KID] {
				t.Errorf("key %s sealed = %q; want %q", k.KID, k.PrivateKey, want[k.KID])
			}
		}
	})
}

func TestDB_SecretCredentialsBelow(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	past := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name    string
		version int16
		expires *time.Time
		revoke  bool
	}{
		{"v1", 1, nil, false}, {"v1-expired", 1, &past, false}, {"v1-revoked", 1, nil, true},
		{"v2", 2, nil, false}, {"v3", 3, nil, false},
	} {
		d := draft(tc.name, t0.Add(-2*time.Hour))
		d.MACVersion, d.ExpiresAt = tc.version, tc.expires
		k, err := store.KeyInsert(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if tc.revoke {
			if _, err := store.KeyRevoke(ctx, k.ID, past); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		below int16
		want  int64
	}{{1, 0}, {2, 1}, {3, 2}, {4, 3}} {
		keys, tokens, err := store.SecretCredentialsBelow(ctx, tc.below, t0)
		if err != nil {
			t.Fatal(err)
		}
		if keys != tc.want || tokens != 0 {
			t.Errorf("SecretCredentialsBelow(%d) = %d keys, %d tokens; want %d live keys, 0 tokens", tc.below, keys, tokens, tc.want)
		}
	}
}
