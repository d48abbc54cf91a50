package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/portal"
	"github.com/authgate/authgate/verify"
)

// The portal the tests sign in at, and the domain its cookie covers.
const (
	portalHost = "auth.home.example"
	portalURL  = "https://" + portalHost
	cookieName = portal.DefaultCookieName
	chromeUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

var cli = issue.Actor{ID: "test", Authority: issue.AllAuthority()}

// fixture is the portal as cmd/authgate serves it: over the real service,
// store and verifier on a database of the test's own, with the revocation
// feed the verifier learns of ended sessions from.
type fixture struct {
	store *db.DB
	svc   *issue.Service
	feed  *db.RevocationFeed
	v     *verify.Verifier
	p     *portal.Portal
	e     *echo.Echo
}

func setup(t *testing.T, opts issue.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	h, err := verify.NewHasher(map[int16][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	if f.store, err = db.Open(ctx, dbtest.URL(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.store.Close)
	f.svc = issue.NewService(f.store, h, nil, opts)
	deny := verify.NewDenyList(time.Now)
	if f.feed, err = db.NewRevocationFeed(f.store, deny, db.RevocationFeedOptions{DenyFor: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := f.feed.Load(ctx); err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.DiscardHandler)
	f.v, err = verify.NewVerifier(f.store, h, verify.Options{Logger: discard, Tokens: f.store,
		Sessions: &verify.SessionOptions{Store: f.store, Revoked: deny, Cookie: cookieName}})
	if err != nil {
		t.Fatal(err)
	}
	f.p, err = portal.New(portal.Config{Log: discard, Sites: []portal.Site{
		{Domain: "home.example", URL: portalURL},
		{Domain: "lab.example.net", URL: "https://auth.lab.example.net"},
	}}, f.svc, f.v)
	if err != nil {
		t.Fatal(err)
	}
	f.e = echo.New()
	f.p.Register(f.e)
	return f
}

// settle is what NOTIFY does between instances: the verifier learns of every
// session ended so far, and forgets what it cached.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	if err := f.feed.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.v.ForgetAll()
}

// newUser creates a user with the password "password-of-"+username; every
// user but an admin holds the household role (events:read, events:write).
func (f *fixture) newUser(t *testing.T, username string, roles ...string) issue.User {
	t.Helper()
	ctx := context.Background()
	if len(roles) == 0 {
		roles = []string{f.household(t)}
	}
	u, err := f.svc.CreateUser(ctx, issue.UserRequest{Username: username, Email: username + "@example.com",
		Password: "password-of-" + username, Roles: roles}, cli)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// household makes (once) the role every test user holds.
func (f *fixture) household(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	roles, err := f.svc.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == "household" {
			return r.Name
		}
	}
	for _, perm := range []string{"events:read", "events:write"} {
		if _, err := f.svc.CreatePermission(ctx, perm, "", cli); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateRole(ctx, "household", "", []string{"events:read", "events:write"}, cli); err != nil {
		t.Fatal(err)
	}
	return "household"
}

// request is one request to the portal, as a browser on the portal's own
// pages sends it (same-origin) unless the test says otherwise.
type request struct {
	method, path string
	form         url.Values
	cookies      []*http.Cookie
	header       http.Header // added to, replacing, the browser's
	host         string      // default portalHost
}

// answer is the portal's answer, its body read.
type answer struct {
	*http.Response
	body string
}

func (f *fixture) do(t *testing.T, rq request) answer {
	t.Helper()
	var body io.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	r := httptest.NewRequest(rq.method, "https://"+portalHost+rq.path, body)
	r.Host = portalHost
	if rq.host != "" {
		r.Host = rq.host
	}
	r.RemoteAddr = "192.0.2.7:40000"
	r.Header.Set("User-Agent", chromeUA)
	r.Header.Set("Accept", "text/html")
	if rq.method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("Origin", portalURL)
	}
	for name, v := range rq.header {
		if v == nil {
			r.Header.Del(name)
		} else {
			r.Header[name] = v
		}
	}
	for _, c := range rq.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return answer{Response: res, body: string(b)}
}

func (f *fixture) get(t *testing.T, path string, cookies ...*http.Cookie) answer {
	t.Helper()
	return f.do(t, request{method: http.MethodGet, path: path, cookies: cookies})
}

func (f *fixture) post(t *testing.T, path string, form url.Values, cookies ...*http.Cookie) answer {
	t.Helper()
	return f.do(t, request{method: http.MethodPost, path: path, form: form, cookies: cookies})
}

// signIn signs username in with its password and returns the session cookie.
func (f *fixture) signIn(t *testing.T, username string, extra ...string) *http.Cookie {
	t.Helper()
	form := url.Values{"login": {username}, "password": {"password-of-" + username}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	a := f.post(t, "/login", form)
	if a.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %s", username, a.StatusCode, a.body)
	}
	c := sessionCookie(t, a)
	if c == nil || c.Value == "" {
		t.Fatalf("sign in %s: no session cookie in %v", username, a.Header["Set-Cookie"])
	}
	return c
}

// sessionCookie returns the session cookie an answer sets, or nil.
func sessionCookie(t *testing.T, a answer) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, raw := range a.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", raw, err)
		}
		if c.Name == cookieName {
			if found != nil {
				t.Fatalf("two session cookies set: %v", a.Header["Set-Cookie"])
			}
			found = c
		}
	}
	return found
}

// principal authenticates a cookie value with the verifier, as the hot path does.
func (f *fixture) principal(t *testing.T, value string) (*verify.Principal, error) {
	t.Helper()
	return f.v.Authenticate(context.Background(), value)
}

// sessions returns the user's live sessions.
func (f *fixture) sessions(t *testing.T, userID string) []issue.Session {
	t.Helper()
	list, err := f.svc.Sessions(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// wantPage fails the test unless the answer has status and its body holds
// every one of texts.
func wantPage(t *testing.T, a answer, status int, texts ...string) {
	t.Helper()
	if a.StatusCode != status {
		t.Fatalf("status %d; want %d\n%s", a.StatusCode, status, a.body)
	}
	for _, s := range texts {
		if !strings.Contains(a.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, a.body)
		}
	}
}

// wantRedirect fails the test unless the answer is a 303 to location.
func wantRedirect(t *testing.T, a answer, location string) {
	t.Helper()
	if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != location {
		t.Fatalf("got %d to %q; want 303 to %q\n%s", a.StatusCode, a.Header.Get("Location"), location, a.body)
	}
}
