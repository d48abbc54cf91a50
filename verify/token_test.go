package verify

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifier_PersonalToken(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	v := newTestVerifierAll(t, keys, fixedClock(testNow), nil)
	garbage := []byte(keys.creds["token-active"])
	garbage[20] ^= 1 // a typo in the secret: the checksum catches it
	tests := []struct {
		name    string
		cred    string
		wantErr error
	}{
		{"Active", keys.creds["token-active"], nil},
		{"ScopeLostIsStillValid", keys.creds["token-scope-lost"], nil}, // the route's scope check refuses it
		{"ExpiredAtExactlyNow", keys.creds["token-expired"], ErrExpired},
		{"Revoked", keys.creds["token-revoked"], ErrRevoked},
		{"UserDisabled", keys.creds["token-user-disabled"], ErrDisabled},
		{"WrongSecret", keys.creds["token-wrong-secret"], ErrWrongSecret},
		{"Unknown", keys.creds["token-unknown"], ErrUnknownKey},
		{"BadChecksum", string(garbage), ErrMalformed},
		{"PrefixOnly", "agp_x", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tt.cred)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate err = %v; want %v", err, tt.wantErr)
			}
			if (err == nil) != (p != nil) {
				t.Fatalf("Authenticate = %v, %v: a principal must come with a nil error only", p, err)
			}
			if status, _ := Status(err); err != nil && status != 401 {
				t.Fatalf("Status(%v) = %d; want 401", err, status)
			}
			if err != nil && !strings.Contains(err.Error(), "personal token") && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Authenticate err = %q; want the log to say it was a personal token", err)
			}
		})
	}
}

func TestVerifier_PersonalTokenPrincipal(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	v := newTestVerifierAll(t, keys, fixedClock(testNow), nil)
	p, err := v.Authenticate(context.Background(), keys.creds["token-active"])
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Kind: KindPersonalToken, Subject: "usr_alice", KeyID: "tok_active", KeyName: "active kiosk",
		User: "alice", Email: "alice@example.com", Roles: []string{"operator", "viewer"},
		Scopes: []string{"cameras:stream", "events:read"}}
	if p.Kind != want.Kind || p.Subject != want.Subject || p.KeyID != want.KeyID || p.KeyName != want.KeyName ||
		p.User != want.User || p.Email != want.Email || !slices.Equal(p.Roles, want.Roles) ||
		!slices.Equal(p.Scopes, want.Scopes) || p.SessionID != "" {
		t.Fatalf("Authenticate = %+v; want %+v", *p, want)
	}
}

// A key and a token may share a lookup id (each is random in its own table).
// Each must verify only with its own prefix and secret, as its own kind.
func TestVerifier_KeyAndTokenShareALookupID(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	key, _ := ParseKey(PrefixAPIKey, keys.creds["active"])
	tok, _ := ParseKey(PrefixPersonalToken, keys.creds["token-active"])
	if key.LookupID != tok.LookupID {
		t.Fatal("the fixture's key and token must share a lookup id")
	}
	swap := func(prefix, secret string) string {
		return Key{Prefix: prefix, LookupID: key.LookupID, Secret: secret}.Reveal()
	}
	tests := []struct {
		name     string
		cred     string
		wantKind Kind
		wantErr  error
	}{
		{"Key", keys.creds["active"], KindAPIKey, nil},
		{"Token", keys.creds["token-active"], KindPersonalToken, nil},
		{"KeyPrefixTokenSecret", swap(PrefixAPIKey, tok.Secret), "", ErrWrongSecret},
		{"TokenPrefixKeySecret", swap(PrefixPersonalToken, key.Secret), "", ErrWrongSecret},
		{"KeyAgain", keys.creds["active"], KindAPIKey, nil},
		{"TokenAgain", keys.creds["token-active"], KindPersonalToken, nil},
	}
	store := keys.store()
	v, err := NewVerifier(store, testHasher(t), Options{Now: fixedClock(testNow), Logger: slog.New(slog.DiscardHandler),
		Tokens: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tt.cred)
			if !errors.Is(err, tt.wantErr) || (err == nil && p.Kind != tt.wantKind) {
				t.Fatalf("Authenticate = %+v, %v; want kind %q, err %v", p, err, tt.wantKind, tt.wantErr)
			}
		})
	}
	if k, tk := store.lookups.Load(), store.tokenLookups.Load(); k != 1 || tk != 1 {
		t.Fatalf("store reads: %d of keys, %d of tokens; want 1 each (one cache entry each)", k, tk)
	}
}

func TestVerifier_PersonalTokensCachedLikeKeys(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.store()
	now := testNow
	v, err := NewVerifier(store, testHasher(t), Options{Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler), Tokens: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 50 {
		v.Authenticate(ctx, keys.creds["token-active"])
		v.Authenticate(ctx, keys.creds["token-unknown"])
		v.Authenticate(ctx, "agp_"+strings.Repeat("0", KeyLen-4)) // garbage: refused on the checksum
	}
	if got := store.tokenLookups.Load(); got != 2 {
		t.Fatalf("token reads after 50 rounds = %d; want 2 (one known, one unknown)", got)
	}
	now = now.Add(5 * time.Second) // the negative TTL
	v.Authenticate(ctx, keys.creds["token-active"])
	v.Authenticate(ctx, keys.creds["token-unknown"])
	if got := store.tokenLookups.Load(); got != 3 {
		t.Fatalf("token reads after the negative TTL = %d; want 3", got)
	}
	now = now.Add(5 * time.Second) // the TTL
	v.Authenticate(ctx, keys.creds["token-active"])
	if got := store.tokenLookups.Load(); got != 4 {
		t.Fatalf("token reads after the TTL = %d; want 4", got)
	}
	if got := store.lookups.Load(); got != 0 {
		t.Fatalf("key reads = %d; want 0 (tokens never read the key store)", got)
	}
}

// Forget (an announcement naming the token's lookup id) and ForgetAll (a "*"
// announcement: a role, grant or user changed) both take effect at once.
func TestVerifier_ForgetDropsTokens(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*TokenRecord)
		forget  func(v *Verifier, lookupID string)
		wantErr error
	}{
		{"RevokedThenForget", func(r *TokenRecord) { r.RevokedAt = testNow }, (*Verifier).Forget, ErrRevoked},
		{"UserDisabledThenForgetAll", func(r *TokenRecord) { r.UserDisabled = true },
			func(v *Verifier, _ string) { v.ForgetAll() }, ErrDisabled},
		{"ScopeRevokedThenForgetAll", func(r *TokenRecord) { r.Scopes = nil },
			func(v *Verifier, _ string) { v.ForgetAll() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := newFixtureKeys(t, testHasher(t))
			inner := keys.store()
			var mu sync.Mutex
			changed := false
			store := &fakeStore{TokenByLookupIDFunc: func(ctx context.Context, id string) (TokenRecord, error) {
				r, err := inner.TokenByLookupIDFunc(ctx, id)
				mu.Lock()
				defer mu.Unlock()
				if changed {
					tt.change(&r)
				}
				return r, err
			}}
			v, err := NewVerifier(store, testHasher(t), Options{Now: fixedClock(testNow),
				Logger: slog.New(slog.DiscardHandler), Tokens: store})
			if err != nil {
				t.Fatal(err)
			}
			cred := keys.creds["token-active"]
			if p, err := v.Authenticate(context.Background(), cred); err != nil || !p.HasScope("events:read") {
				t.Fatalf("Authenticate = %v, %v; want the token with events:read", p, err)
			}
			mu.Lock()
			changed = true
			mu.Unlock()
			if _, err := v.Authenticate(context.Background(), cred); err != nil {
				t.Fatalf("before the announcement, the cached token should still pass; got %v", err)
			}
			k, _ := ParseKey(PrefixPersonalToken, cred)
			tt.forget(v, k.LookupID)
			p, err := v.Authenticate(context.Background(), cred)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("after the announcement err = %v; want %v", err, tt.wantErr)
			}
			if err == nil && p.HasScope("events:read") {
				t.Fatalf("after the announcement the token still holds events:read: %v", p.Scopes)
			}
		})
	}
}

func TestVerifier_PersonalTokensNotEnabled(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.store()
	v := newTestVerifier(t, store, fixedClock(testNow)) // no Options.Tokens
	p, err := v.Authenticate(context.Background(), keys.creds["token-active"])
	if p != nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "personal tokens are not enabled") {
		t.Fatalf("Authenticate = %v, %v; want ErrMalformed: personal tokens are not enabled", p, err)
	}
	if status, _ := Status(err); status != 401 {
		t.Fatalf("Status = %d; want 401", status)
	}
	if got := store.tokenLookups.Load() + store.lookups.Load(); got != 0 {
		t.Fatalf("store reads = %d; want 0", got)
	}
}
