package verify

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStore is a KeyStore whose behaviour each test sets through Func fields.
type fakeStore struct {
	KeyByLookupIDFunc func(ctx context.Context, lookupID string) (KeyRecord, error)
	KeysTouchFunc     func(ctx context.Context, ids []string, at time.Time) error
	lookups           atomic.Int64
}

var _ KeyStore = (*fakeStore)(nil)

func (s *fakeStore) KeyByLookupID(ctx context.Context, lookupID string) (KeyRecord, error) {
	s.lookups.Add(1)
	return s.KeyByLookupIDFunc(ctx, lookupID)
}

func (s *fakeStore) KeysTouch(ctx context.Context, ids []string, at time.Time) error {
	if s.KeysTouchFunc == nil {
		return nil
	}
	return s.KeysTouchFunc(ctx, ids, at)
}

// testNow is the fixed time fixtures are judged at.
var testNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func testHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(map[int16][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fixtureKeys are stored keys in each state, by name, with their full credentials.
type fixtureKeys struct {
	creds   map[string]string
	records map[string]KeyRecord // by lookup id
}

func newFixtureKeys(t testing.TB, h *Hasher) *fixtureKeys {
	t.Helper()
	f := &fixtureKeys{creds: map[string]string{}, records: map[string]KeyRecord{}}
	add := func(name string, scopes []string, edit func(*KeyRecord)) {
		k := NewKey(PrefixAPIKey)
		v, mac := h.Sum(k.Secret)
		r := KeyRecord{ID: "key_" + name, LookupID: k.LookupID, Subject: "sub_" + name, Name: name + " key",
			Scopes: scopes, SecretMAC: mac, MACVersion: v}
		if edit != nil {
			edit(&r)
		}
		f.creds[name] = k.Reveal()
		f.records[k.LookupID] = r
	}
	add("active", []string{"events:read", "cameras:stream"}, nil)
	add("expiring", []string{"events:read"}, func(r *KeyRecord) { r.ExpiresAt = testNow.Add(time.Hour) })
	add("expired", []string{"events:read"}, func(r *KeyRecord) { r.ExpiresAt = testNow })
	add("disabled", []string{"events:read"}, func(r *KeyRecord) { r.DisabledAt = testNow.Add(-time.Hour) })
	add("revoked", []string{"events:read"}, func(r *KeyRecord) { r.RevokedAt = testNow.Add(-time.Hour) })
	// Same lookup id as "active", another secret: a guess at the secret.
	guess := NewKey(PrefixAPIKey)
	active, _ := ParseKey(PrefixAPIKey, f.creds["active"])
	guess.LookupID = active.LookupID
	f.creds["wrong-secret"] = guess.Reveal()
	f.creds["unknown"] = NewKey(PrefixAPIKey).Reveal()
	return f
}

func (f *fixtureKeys) store() *fakeStore {
	return &fakeStore{KeyByLookupIDFunc: func(_ context.Context, id string) (KeyRecord, error) {
		if r, ok := f.records[id]; ok {
			return r, nil
		}
		return KeyRecord{}, ErrNotFound
	}}
}

func newTestVerifier(t testing.TB, store KeyStore, now func() time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(store, testHasher(t), Options{Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }
