package verify

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifier_Authenticate(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	v := newTestVerifier(t, keys.store(), fixedClock(testNow))
	tests := []struct {
		name    string
		cred    string
		wantErr error
	}{
		{"Active", keys.creds["active"], nil},
		{"ExpiringLater", keys.creds["expiring"], nil},
		{"ExpiredAtExactlyNow", keys.creds["expired"], ErrExpired},
		{"Disabled", keys.creds["disabled"], ErrDisabled},
		{"Revoked", keys.creds["revoked"], ErrRevoked},
		{"WrongSecret", keys.creds["wrong-secret"], ErrWrongSecret},
		{"Unknown", keys.creds["unknown"], ErrUnknownKey},
		{"Malformed", "agk_x", ErrMalformed},
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
		})
	}
}

func TestVerifier_CachesWithinTTL(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.store()
	now := testNow
	v := newTestVerifier(t, store, func() time.Time { return now })
	ctx := context.Background()

	for range 100 {
		if _, err := v.Authenticate(ctx, keys.creds["active"]); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.lookups.Load(); got != 1 {
		t.Fatalf("store lookups after 100 verifies = %d; want 1", got)
	}
	now = now.Add(10*time.Second - time.Nanosecond)
	v.Authenticate(ctx, keys.creds["active"])
	if got := store.lookups.Load(); got != 1 {
		t.Fatalf("store lookups just inside the TTL = %d; want 1", got)
	}
	now = now.Add(time.Nanosecond)
	v.Authenticate(ctx, keys.creds["active"])
	if got := store.lookups.Load(); got != 2 {
		t.Fatalf("store lookups at the TTL = %d; want 2", got)
	}
}

func TestVerifier_NegativeCache(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.store()
	now := testNow
	v := newTestVerifier(t, store, func() time.Time { return now })
	for range 50 {
		v.Authenticate(context.Background(), keys.creds["unknown"])
	}
	if got := store.lookups.Load(); got != 1 {
		t.Fatalf("lookups for one unknown key = %d; want 1", got)
	}
	now = now.Add(5 * time.Second)
	v.Authenticate(context.Background(), keys.creds["unknown"])
	if got := store.lookups.Load(); got != 2 {
		t.Fatalf("lookups after the negative TTL = %d; want 2", got)
	}
}

func TestVerifier_ForgetTakesEffectAtOnce(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	var mu sync.Mutex
	revoked := false
	inner := keys.store()
	store := &fakeStore{KeyByLookupIDFunc: func(ctx context.Context, id string) (KeyRecord, error) {
		r, err := inner.KeyByLookupIDFunc(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		if revoked {
			r.RevokedAt = testNow
		}
		return r, err
	}}
	v := newTestVerifier(t, store, fixedClock(testNow))
	cred := keys.creds["active"]
	if _, err := v.Authenticate(context.Background(), cred); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	revoked = true
	mu.Unlock()
	if _, err := v.Authenticate(context.Background(), cred); err != nil {
		t.Fatalf("before Forget, the cached key should still pass; got %v", err)
	}
	k, _ := ParseKey(PrefixAPIKey, cred)
	v.Forget(k.LookupID)
	if _, err := v.Authenticate(context.Background(), cred); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after Forget err = %v; want ErrRevoked", err)
	}
}

// A change announced while a load is in flight must not leave the stale load cached.
func TestVerifier_ForgetDuringLoadIsNotLost(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	inner := keys.store()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var calls atomic.Int32
	store := &fakeStore{KeyByLookupIDFunc: func(ctx context.Context, id string) (KeyRecord, error) {
		if calls.Add(1) == 1 {
			started <- struct{}{}
			<-release
		}
		return inner.KeyByLookupIDFunc(ctx, id)
	}}
	v := newTestVerifier(t, store, fixedClock(testNow))
	cred := keys.creds["active"]
	done := make(chan struct{})
	go func() { v.Authenticate(context.Background(), cred); close(done) }()
	<-started
	v.ForgetAll() // the announcement arrives while the first read is in flight
	close(release)
	<-done
	v.Authenticate(context.Background(), cred)
	if got := store.lookups.Load(); got != 2 {
		t.Fatalf("lookups = %d; want 2 (the in-flight result must not be cached)", got)
	}
}

func TestVerifier_StoreFailureFailsClosed(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	inner := keys.store()
	var down atomic.Bool
	store := &fakeStore{KeyByLookupIDFunc: func(ctx context.Context, id string) (KeyRecord, error) {
		if down.Load() {
			return KeyRecord{}, errors.New("connection refused")
		}
		return inner.KeyByLookupIDFunc(ctx, id)
	}}
	now := testNow
	v := newTestVerifier(t, store, func() time.Time { return now })
	ctx := context.Background()
	if _, err := v.Authenticate(ctx, keys.creds["active"]); err != nil {
		t.Fatal(err)
	}
	down.Store(true)

	if _, err := v.Authenticate(ctx, keys.creds["active"]); err != nil {
		t.Fatalf("a cached key during an outage: err = %v; want it to keep working until its TTL", err)
	}
	p, err := v.Authenticate(ctx, keys.creds["expiring"])
	if status, _ := Status(err); p != nil || status != 500 {
		t.Fatalf("an uncached key during an outage = %v, %v (status %d); want a 500 and no principal", p, err, status)
	}
	now = now.Add(10 * time.Second)
	p, err = v.Authenticate(ctx, keys.creds["active"])
	if status, _ := Status(err); p != nil || status != 500 {
		t.Fatalf("a cached key past its TTL during an outage = %v, %v (status %d); want a 500", p, err, status)
	}
}

func TestVerifier_ConcurrentMissesShareOneLoad(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	inner := keys.store()
	gate := make(chan struct{})
	store := &fakeStore{KeyByLookupIDFunc: func(ctx context.Context, id string) (KeyRecord, error) {
		<-gate
		return inner.KeyByLookupIDFunc(ctx, id)
	}}
	v := newTestVerifier(t, store, fixedClock(testNow))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { v.Authenticate(context.Background(), keys.creds["active"]) })
	}
	time.Sleep(50 * time.Millisecond) // let the goroutines pile up on the load
	close(gate)
	wg.Wait()
	if got := store.lookups.Load(); got > 2 {
		t.Fatalf("20 concurrent misses made %d store reads; want 1 (2 if one came late)", got)
	}
}

func TestVerifier_TouchAtMostOncePerMinute(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	tests := []struct {
		name   string
		cred   string
		wantID string
		to     string // the store method written to
	}{
		{"APIKey", keys.creds["active"], "key_active", "keys"},
		{"PersonalToken", keys.creds["token-active"], "tok_active", "tokens"},
		{"Session", keys.creds["session-active"], "ses_active", "sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := keys.store()
			var mu sync.Mutex
			var writes [][]string
			record := func(into *[][]string) func(context.Context, []string, time.Time) error {
				return func(_ context.Context, ids []string, _ time.Time) error {
					mu.Lock()
					defer mu.Unlock()
					*into = append(*into, ids)
					return nil
				}
			}
			var wrong [][]string // writes to another kind's store
			sessions := keys.sessionStore()
			store.KeysTouchFunc, store.TokensTouchFunc, sessions.SessionsTouchFunc = record(&wrong), record(&wrong), record(&wrong)
			switch tt.to {
			case "keys":
				store.KeysTouchFunc = record(&writes)
			case "tokens":
				store.TokensTouchFunc = record(&writes)
			case "sessions":
				sessions.SessionsTouchFunc = record(&writes)
			}
			var now atomic.Pointer[time.Time]
			setNow := func(t time.Time) { now.Store(&t) }
			setNow(testNow)
			v, err := NewVerifier(store, testHasher(t), Options{Now: func() time.Time { return *now.Load() },
				TouchInterval: 5 * time.Millisecond, Tokens: store, Sessions: keys.sessionOptions(sessions)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go v.Run(ctx)

			count := func() int { mu.Lock(); defer mu.Unlock(); return len(writes) }
			use := func() {
				if _, err := v.Authenticate(context.Background(), tt.cred); err != nil {
					t.Fatal(err)
				}
			}
			use()
			waitFor(t, func() bool { return count() == 1 })
			for i := range 30 { // 30 s of steady use, with the cache expiring twice
				setNow(testNow.Add(time.Duration(i) * time.Second))
				use()
				time.Sleep(time.Millisecond)
			}
			time.Sleep(30 * time.Millisecond)
			if got := count(); got != 1 {
				t.Fatalf("last-used writes within one minute = %d; want 1", got)
			}
			setNow(testNow.Add(61 * time.Second))
			use()
			waitFor(t, func() bool { return count() == 2 })
			mu.Lock()
			defer mu.Unlock()
			if len(wrong) != 0 || !slices.Equal(writes[0], []string{tt.wantID}) {
				t.Fatalf("writes = %q, to the other store %q; want [[%s] [%[3]s]] and none", writes, wrong, tt.wantID)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A stored MAC of any other length than HMAC-SHA-256's matches no secret: a
// longer one is not cut to fit, a shorter one is not padded.
func TestStoredMAC_OtherLengthsNeverMatch(t *testing.T) {
	h := testHasher(t)
	k := NewKey(PrefixAPIKey)
	v, mac := h.Sum(k.Secret)
	if m := newStoredMAC(v, mac); !h.Equal(m.version, k.Secret, m.bytes()) {
		t.Fatal("the MAC of the secret does not match it")
	}
	for name, other := range map[string][]byte{
		"Longer":  append(slices.Clone(mac), 0),
		"Shorter": mac[:len(mac)-1],
		"Empty":   nil,
	} {
		if m := newStoredMAC(v, other); h.Equal(m.version, k.Secret, m.bytes()) {
			t.Errorf("%s: a stored MAC of %d bytes matches the secret", name, len(other))
		}
	}
}
