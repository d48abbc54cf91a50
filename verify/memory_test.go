package verify

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCache_Memory100k caches 100 000 distinct credentials of one kind
// and reports what they hold, per credential: B/credential is the live heap
// (after a GC; the store's records and the presented credentials are built
// before the baseline and kept alive, and the store answers with fresh copies
// of its records, as Postgres's rows are, so exactly what the verifier keeps
// is counted), RSS-B/credential the growth of the process's resident memory
// (which also keeps what the garbage of the fill took, until the runtime
// returns it). Run with -benchtime 1x.
//
//   - api_key: a camera's key, two scopes;
//   - personal_token: a user's token, with username, email, two roles and
//     two scopes (a browser session's entry has the same shape);
//   - jwt: authgate's ES256 access token (the cache keys it by the token
//     itself, about 500 bytes of it).
func BenchmarkCache_Memory100k(b *testing.B) {
	const n = 100_000
	b.Run("api_key", func(b *testing.B) {
		h := testHasher(b)
		records := make(map[string]KeyRecord, n)
		creds := make([]string, n)
		for i := range n {
			k := NewKey(PrefixAPIKey)
			v, mac := h.Sum(k.Secret)
			records[k.LookupID] = KeyRecord{ID: "key_" + RandomString(16), LookupID: k.LookupID, Subject: "key_" + strconv.Itoa(i),
				Name: "camera " + strconv.Itoa(i), Scopes: []string{"events:read", "cameras:stream"}, SecretMAC: mac, MACVersion: v}
			creds[i] = k.Reveal()
		}
		store := &fakeStore{KeyByLookupIDFunc: func(_ context.Context, id string) (KeyRecord, error) {
			if r, ok := records[id]; ok {
				r.ID, r.LookupID, r.Subject, r.Name = strings.Clone(r.ID), strings.Clone(r.LookupID), strings.Clone(r.Subject), strings.Clone(r.Name)
				r.Scopes, r.SecretMAC = cloneStrings(r.Scopes), slices.Clone(r.SecretMAC)
				return r, nil
			}
			return KeyRecord{}, ErrNotFound
		}}
		measureCache(b, creds, func() *Verifier {
			v, err := NewVerifier(store, h, Options{CacheSize: 2 * n, Now: fixedClock(testNow), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			return v
		})
		runtime.KeepAlive(records)
	})
	b.Run("personal_token", func(b *testing.B) {
		h := testHasher(b)
		records := make(map[string]TokenRecord, n)
		creds := make([]string, n)
		for i := range n {
			k := NewKey(PrefixPersonalToken)
			v, mac := h.Sum(k.Secret)
			user := "user" + strconv.Itoa(i)
			records[k.LookupID] = TokenRecord{ID: "tok_" + RandomString(16), LookupID: k.LookupID, Name: "kiosk " + strconv.Itoa(i),
				SecretMAC: mac, MACVersion: v, Scopes: []string{"events:read", "cameras:stream"}, ExpiresAt: testNow.Add(24 * 3600e9),
				UserID: "usr_" + RandomString(16), Username: user, Email: user + "@example.com", Roles: []string{"viewer", "operator"}}
			creds[i] = k.Reveal()
		}
		store := &fakeStore{TokenByLookupIDFunc: func(_ context.Context, id string) (TokenRecord, error) {
			if r, ok := records[id]; ok {
				r.ID, r.LookupID, r.Name, r.UserID = strings.Clone(r.ID), strings.Clone(r.LookupID), strings.Clone(r.Name), strings.Clone(r.UserID)
				r.Username, r.Email = strings.Clone(r.Username), strings.Clone(r.Email)
				r.Scopes, r.Roles, r.SecretMAC = cloneStrings(r.Scopes), cloneStrings(r.Roles), slices.Clone(r.SecretMAC)
				return r, nil
			}
			return TokenRecord{}, ErrNotFound
		}}
		measureCache(b, creds, func() *Verifier {
			v, err := NewVerifier(store, h, Options{CacheSize: 2 * n, Now: fixedClock(testNow), Logger: slog.New(slog.DiscardHandler), Tokens: store})
			if err != nil {
				b.Fatal(err)
			}
			return v
		})
		runtime.KeepAlive(records)
	})
	b.Run("jwt", func(b *testing.B) {
		f := newJWTFixture(b, fixedClock(testNow))
		creds := make([]string, n)
		for i := range n {
			creds[i] = f.token(b, func(c *AccessClaims) {
				c.Subject, c.ID, c.SessionID = "usr_"+RandomString(16), "jti_"+RandomString(16), "ses_"+RandomString(16)
				c.Username = "user" + strconv.Itoa(i)
				c.Email = c.Username + "@example.com"
			})
		}
		measureCache(b, creds, func() *Verifier {
			v, err := NewVerifier(notFoundStore(), testHasher(b), Options{CacheSize: 2 * n, Now: fixedClock(testNow),
				Logger: slog.New(slog.DiscardHandler), JWT: f.options()})
			if err != nil {
				b.Fatal(err)
			}
			return v
		})
	})
}

// measureCache verifies each of creds once with a new verifier and reports
// the live heap and the resident memory the verifier grew by, per credential.
func measureCache(b *testing.B, creds []string, newVerifier func() *Verifier) {
	b.Helper()
	for range b.N {
		v := newVerifier()
		before, rssBefore := liveHeap(), rss(b)
		for _, c := range creds {
			// A fresh copy, as each request's header value is: what the
			// cache keeps of it is the cache's.
			if _, err := v.Authenticate(context.Background(), strings.Clone(c)); err != nil {
				b.Fatal(err)
			}
		}
		after, rssAfter := liveHeap(), rss(b)
		if got := v.CacheStats().Entries; got != len(creds) {
			b.Fatalf("cached %d; want %d", got, len(creds))
		}
		b.ReportMetric(float64(after-before)/float64(len(creds)), "B/credential")
		b.ReportMetric(float64(rssAfter-rssBefore)/float64(len(creds)), "RSS-B/credential")
		runtime.KeepAlive(v)
	}
}

// cloneStrings is a deep copy of s, as a row decoded from Postgres is.
func cloneStrings(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.Clone(v)
	}
	return out
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rss is the process's resident memory in bytes, from /proc/self/statm
// (Linux; elsewhere the benchmark fails, saying so).
func rss(b *testing.B) int64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatalf("resident memory: %v (the RSS figure needs Linux's /proc)", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 2 {
		b.Fatalf("resident memory: /proc/self/statm holds %q", raw)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		b.Fatalf("resident memory: %v", err)
	}
	return pages * int64(os.Getpagesize())
}

// BenchmarkMaps_Memory reports the live heap of the hot path's other maps,
// each filled to its bound (or, for the deny list, which has none of its own,
// to 100 000 entries), per entry. Run with -benchtime 1x.
//
//   - limiter: DefaultLimiterCells rate-limit cells, one per client of a
//     route (key ids; the route's query is shared, as in a deployment);
//   - requirements: maxRequirements parsed verify URLs;
//   - deny_list: 100 000 ended sessions (each stays until its last access
//     token has expired: the sessions ended within ACCESS_TTL).
func BenchmarkMaps_Memory(b *testing.B) {
	b.Run("limiter", func(b *testing.B) {
		const n = DefaultLimiterCells
		who := make([]string, n)
		for i := range who {
			who[i] = "key_" + RandomString(16)
		}
		rule := RateRule{Requests: 10, Window: time.Minute, Burst: 3}
		measureMap(b, n, func() any {
			l := NewLimiter(n, fixedClock(testNow))
			for _, w := range who {
				l.Allow(strings.Clone(w), "scope=events:read&rate=10/m&burst=3", rule)
			}
			if l.Len() < n*9/10 {
				b.Fatalf("limiter holds %d cells; want about %d", l.Len(), n)
			}
			return l
		})
	})
	b.Run("requirements", func(b *testing.B) {
		queries := make([]string, maxRequirements)
		for i := range queries {
			queries[i] = "scope=events:read&scope=cameras:" + strconv.Itoa(i) + "&rate=10/m&burst=3"
		}
		measureMap(b, maxRequirements, func() any {
			h := NewHandler(nil, slog.New(slog.DiscardHandler), HandlerOptions{})
			for _, q := range queries {
				if _, err := h.requirement(strings.Clone(q)); err != nil {
					b.Fatal(err)
				}
			}
			return h
		})
	})
	b.Run("deny_list", func(b *testing.B) {
		const n = 100_000
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "ses_" + RandomString(16)
		}
		measureMap(b, n, func() any {
			d := NewDenyList(fixedClock(testNow))
			for _, id := range ids {
				d.Add(strings.Clone(id), testNow.Add(15*time.Minute))
			}
			return d
		})
	})
}

// measureMap reports the live heap fill grows by, per each of n entries.
func measureMap(b *testing.B, n int, fill func() any) {
	b.Helper()
	for range b.N {
		before := liveHeap()
		m := fill()
		after := liveHeap()
		b.ReportMetric(float64(after-before)/float64(n), "B/entry")
		runtime.KeepAlive(m)
	}
}
