package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func draft(name string, createdAt time.Time) issue.KeyDraft {
	k := verify.NewKey(verify.PrefixAPIKey)
	id := "key_" + verify.RandomString(16)
	return issue.KeyDraft{ID: id, LookupID: k.LookupID, SecretMAC: []byte("mac-of-" + k.Secret), MACVersion: 1,
		Subject: id, Name: name, Scopes: []string{"a:read", "b:write"}, Metadata: json.RawMessage(`{"team":"x"}`),
		CreatedAt: createdAt, CreatedBy: "test"}
}

func TestDB_KeyInsertAndRead(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	exp := t0.Add(time.Hour)
	d := draft("cam", t0)
	d.ExpiresAt = &exp
	k, err := store.KeyInsert(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != d.ID || k.Prefix != "agk_"+d.LookupID || k.Name != "cam" || !slices.Equal(k.Scopes, d.Scopes) ||
		!k.ExpiresAt.Equal(exp) || !k.CreatedAt.Equal(t0) || string(k.Metadata) != `{"team": "x"}` {
		t.Fatalf("KeyInsert returned %+v", k)
	}
	rec, err := store.KeyByLookupID(ctx, d.LookupID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != d.ID || string(rec.SecretMAC) != string(d.SecretMAC) || rec.MACVersion != 1 ||
		!rec.ExpiresAt.Equal(exp) || !rec.RevokedAt.IsZero() || !rec.DisabledAt.IsZero() {
		t.Fatalf("KeyByLookupID = %+v", rec)
	}
	if _, err := store.KeyByLookupID(ctx, "nosuchlookup"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("KeyByLookupID(unknown) err = %v; want ErrNotFound", err)
	}
	if _, err := store.KeyByID(ctx, "key_nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("KeyByID(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestDB_KeyInsertDuplicateLookupIDConflicts(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	d := draft("a", t0)
	if _, err := store.KeyInsert(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.ID = "key_other"
	if _, err := store.KeyInsert(ctx, d); !errors.Is(err, issue.ErrConflict) {
		t.Fatalf("second insert with the same lookup id: err = %v; want ErrConflict", err)
	}
}

func TestDB_InTxRollsBack(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	boom := errors.New("boom")
	err := store.InTx(ctx, func(tx issue.Store) error {
		if _, err := tx.KeyInsert(ctx, draft("a", t0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx err = %v; want boom", err)
	}
	if n, _ := store.KeyCount(ctx); n != 0 {
		t.Fatalf("keys after a rolled-back transaction = %d; want 0", n)
	}
}

func TestDB_KeyListStatesAndCursor(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	var ids []string
	for i := range 7 {
		// Two keys per timestamp, so the cursor must break ties by id.
		k, err := store.KeyInsert(ctx, draft("k", t0.Add(time.Duration(i/2)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	store.KeyRevoke(ctx, ids[0], t0)
	store.KeySetDisabled(ctx, ids[1], &t0)
	store.KeySetExpiry(ctx, ids[2], t0)

	var got []string
	var after *issue.Cursor
	for page := 0; ; page++ {
		keys, err := store.KeyList(ctx, issue.KeyFilter{Now: t0, After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if len(keys) < 3 {
			break
		}
		last := keys[len(keys)-1]
		after = &issue.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if unique := slices.Compact(slices.Sorted(slices.Values(got))); len(got) != 7 || len(unique) != 7 {
		t.Fatalf("paging returned %v; want all 7 keys once", got)
	}
	for i := 1; i < len(got); i++ {
		a, _ := store.KeyByID(ctx, got[i-1])
		b, _ := store.KeyByID(ctx, got[i])
		if a.CreatedAt.Before(b.CreatedAt) {
			t.Fatalf("page order: %s (%v) before %s (%v); want newest first", a.ID, a.CreatedAt, b.ID, b.CreatedAt)
		}
	}
	for state, want := range map[issue.State][]string{
		issue.StateRevoked: {ids[0]}, issue.StateDisabled: {ids[1]}, issue.StateExpired: {ids[2]},
	} {
		keys, err := store.KeyList(ctx, issue.KeyFilter{State: state, Now: t0, Limit: 10})
		if err != nil || len(keys) != 1 || keys[0].ID != want[0] {
			t.Errorf("KeyList(%s) = %v, %v; want %v", state, keys, err, want)
		}
	}
	active, _ := store.KeyList(ctx, issue.KeyFilter{State: issue.StateActive, Now: t0, Limit: 10})
	if len(active) != 4 {
		t.Errorf("KeyList(active) has %d keys; want 4", len(active))
	}
}

func TestDB_KeyRevokeKeepsFirstTime(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	k, _ := store.KeyInsert(ctx, draft("a", t0))
	store.KeyRevoke(ctx, k.ID, t0)
	again, err := store.KeyRevoke(ctx, k.ID, t0.Add(time.Hour))
	if err != nil || !again.RevokedAt.Equal(t0) {
		t.Fatalf("second revoke = %v, %v; want revoked_at to stay %v", again.RevokedAt, err, t0)
	}
}

func TestDB_KeysTouchNeverGoesBack(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	k, _ := store.KeyInsert(ctx, draft("a", t0))
	later := t0.Add(time.Minute)
	if err := store.KeysTouch(ctx, []string{k.ID, "key_unknown"}, later); err != nil {
		t.Fatal(err)
	}
	store.KeysTouch(ctx, []string{k.ID}, t0)
	got, _ := store.KeyByID(ctx, k.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(later) {
		t.Fatalf("last_used_at = %v; want %v", got.LastUsedAt, later)
	}
}

func TestDB_ListenAnnouncesKeyChanges(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	k, err := store.KeyInsert(ctx, draft("before-listening", t0))
	if err != nil {
		t.Fatal(err)
	}
	a := listenTo(t, store, db.ChannelKeys)
	if err := store.KeysTouch(ctx, []string{k.ID}, t0); err != nil { // last use alone is not announced
		t.Fatal(err)
	}
	if _, err := store.KeyRevoke(ctx, k.ID, t0); err != nil {
		t.Fatal(err)
	}
	k2, err := store.KeyInsert(ctx, draft("new", t0))
	if err != nil {
		t.Fatal(err)
	}
	// In commit order: a touch announced would come first.
	a.expect(t, k.Prefix[len(verify.PrefixAPIKey):], k2.Prefix[len(verify.PrefixAPIKey):])
}

func TestDB_MigrateConcurrentlyAndTwice(t *testing.T) {
	url := dbtest.EmptyURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			s, err := db.Open(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
}
