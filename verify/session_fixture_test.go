package verify

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCookie is the session cookie's name in tests.
const testCookie = "__Secure-authgate_session"

// fakeSessionStore is a SessionStore whose behaviour each test sets through
// Func fields.
type fakeSessionStore struct {
	SessionByCookieFunc func(ctx context.Context, lookupID string) (SessionRecord, error)
	SessionsTouchFunc   func(ctx context.Context, ids []string, at time.Time) error
	lookups             atomic.Int64
}

var _ SessionStore = (*fakeSessionStore)(nil)

func (s *fakeSessionStore) SessionByCookie(ctx context.Context, lookupID string) (SessionRecord, error) {
	s.lookups.Add(1)
	if s.SessionByCookieFunc == nil {
		return SessionRecord{}, ErrNotFound
	}
	return s.SessionByCookieFunc(ctx, lookupID)
}

func (s *fakeSessionStore) SessionsTouch(ctx context.Context, ids []string, at time.Time) error {
	if s.SessionsTouchFunc == nil {
		return nil
	}
	return s.SessionsTouchFunc(ctx, ids, at)
}

// fakePortal is a Portal whose cookie domain is "example": it signs in
// browsers reaching app.example and the like, and no other host.
type fakePortal struct{}

var _ Portal = fakePortal{}

func (fakePortal) LoginURL(t Target) (string, bool) {
	if !strings.HasSuffix(t.Host, ".example") {
		return "", false
	}
	return "https://auth.example/login?rd=" + url.QueryEscape(t.Proto+"://"+t.Host+t.URI), true
}

func (fakePortal) DeniedURL(t Target, scope string) (string, bool) {
	if !strings.HasSuffix(t.Host, ".example") {
		return "", false
	}
	return "https://auth.example/denied?scope=" + url.QueryEscape(scope) +
		"&rd=" + url.QueryEscape(t.Proto+"://"+t.Host+t.URI), true
}

// addSessions adds browser sessions in each state to the fixture, their
// cookie values under names starting "session-". "session-ended" is live in
// the store but on the fixture's deny list: signed out moments ago.
func (f *fixtureKeys) addSessions(t testing.TB, h *Hasher) {
	t.Helper()
	f.sessions, f.ended = map[string]SessionRecord{}, NewDenyList(fixedClock(testNow))
	add := func(name string, k Key, scopes []string, edit func(*SessionRecord)) {
		v, mac := h.Sum(k.Secret)
		r := SessionRecord{ID: "ses_" + strings.ReplaceAll(name[len("session-"):], "-", "_"), LookupID: k.LookupID,
			SecretMAC: mac, MACVersion: v, ExpiresAt: testNow.Add(24 * time.Hour),
			UserID: "usr_alice", Username: "alice", Email: "alice@example.com", Roles: []string{"viewer", "operator"},
			Scopes: scopes, Domain: "app.example"}
		if edit != nil {
			edit(&r)
		}
		f.creds[name] = k.Reveal()
		f.sessions[k.LookupID] = r
	}
	// "session-active" shares its lookup id with the key "active": each must
	// verify only as itself.
	active, _ := ParseKey(PrefixAPIKey, f.creds["active"])
	add("session-active", Key{Prefix: PrefixSession, LookupID: active.LookupID, Secret: RandomString(secretLen)},
		[]string{"events:read", "cameras:stream"}, nil)
	add("session-reader", NewKey(PrefixSession), []string{"events:read"}, func(r *SessionRecord) {
		r.UserID, r.Username, r.Email, r.Roles = "usr_bob", "bob", "bob@example.com", []string{"viewer"}
	})
	add("session-expired", NewKey(PrefixSession), []string{"events:read"}, func(r *SessionRecord) { r.ExpiresAt = testNow })
	add("session-revoked", NewKey(PrefixSession), []string{"events:read"}, func(r *SessionRecord) {
		r.RevokedAt = testNow.Add(-time.Hour)
	})
	add("session-ended", NewKey(PrefixSession), []string{"events:read"}, nil)
	f.ended.Add("ses_ended", testNow.Add(time.Hour))
	add("session-user-disabled", NewKey(PrefixSession), []string{"events:read"}, func(r *SessionRecord) {
		r.UserDisabled = true
	})
	guess := NewKey(PrefixSession)
	guess.LookupID = active.LookupID
	f.creds["session-wrong-secret"] = guess.Reveal()
	f.creds["session-unknown"] = NewKey(PrefixSession).Reveal()
}

func (f *fixtureKeys) sessionStore() *fakeSessionStore {
	return &fakeSessionStore{SessionByCookieFunc: func(_ context.Context, id string) (SessionRecord, error) {
		if r, ok := f.sessions[id]; ok {
			return r, nil
		}
		return SessionRecord{}, ErrNotFound
	}}
}

// sessionOptions admits the fixture's sessions, from s (the fixture's own
// store if nil).
func (f *fixtureKeys) sessionOptions(s SessionStore) *SessionOptions {
	if s == nil {
		s = f.sessionStore()
	}
	return &SessionOptions{Store: s, Revoked: f.ended, Cookie: testCookie}
}
