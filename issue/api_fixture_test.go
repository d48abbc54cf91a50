package issue_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/issue/api/apitest"
	"github.com/authgate/authgate/verify"
)

// hsSigner signs access tokens with HS256 under a fixed secret, and is the
// verifier's keyset for them: a stand-in for the service's signing keys.
type hsSigner struct{ secret []byte }

func (s hsSigner) Sign(_ context.Context, c verify.AccessClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, &c)
	t.Header["typ"] = verify.TypAccessToken
	t.Header["kid"] = "test"
	return t.SignedString(s.secret)
}

func (s hsSigner) VerificationKey(kid string) (string, any, bool) {
	return verify.AlgHS256, s.secret, kid == "test"
}

// apiBundle is the management API over a bundle, the one fixture of the API
// tests: its service signs access tokens and its verifier admits them.
type apiBundle struct {
	*bundle
	signer hsSigner
	deny   *verify.DenyList
	e      *echo.Echo
	admin  string // an API key with authgate:admin
	plain  string // an API key without management permissions (setupAPI, keysAPI)
	by     issue.Actor
}

func setupAuth(t *testing.T, opts issue.Options) *apiBundle {
	t.Helper()
	b := setup(t)
	a := &apiBundle{bundle: b, signer: hsSigner{secret: []byte("test-secret-test-secret-test-secret!")},
		by: issue.Actor{ID: "anonymous", IP: "192.0.2.10", UserAgent: "test"}}
	a.deny = verify.NewDenyList(func() time.Time { return b.now })
	opts.Signer = a.signer
	b.svc = issue.NewService(b.store, b.hasher, func() time.Time { return b.now }, opts)
	v, err := verify.NewVerifier(b.store, b.hasher, verify.Options{
		Now: func() time.Time { return b.now }, Logger: slog.New(slog.DiscardHandler), Tokens: b.store,
		JWT: &verify.JWTOptions{Issuer: "authgate", Audience: "authgate", Keys: a.signer, Revoked: a.deny}})
	if err != nil {
		t.Fatal(err)
	}
	a.e = newEcho(t, api.New(b.svc, v))
	a.admin = a.newKey(t, "admin", issue.ScopeAdmin)
	return a
}

// setupAPI is setupAuth with default options and a second, plain key.
func setupAPI(t *testing.T) *apiBundle {
	t.Helper()
	a := setupAuth(t, issue.Options{})
	a.plain = a.newKey(t, "plain", "events:read")
	return a
}

// keysAPI is the API over b (whose service signs nothing), with ks as its
// signing keys (nil: none), an admin key and a plain key with keys:read.
func keysAPI(t *testing.T, b *bundle, ks *issue.SigningKeys) *apiBundle {
	t.Helper()
	x := api.New(b.svc, b.verifier(t))
	if ks != nil {
		x.SetSigningKeys(ks)
	}
	a := &apiBundle{bundle: b, deny: verify.NewDenyList(func() time.Time { return b.now }), e: newEcho(t, x)}
	a.admin = a.newKey(t, "admin", issue.ScopeAdmin)
	a.plain = a.newKey(t, "plain", "keys:read")
	return a
}

// newEcho serves x the way cmd/authgate does, errors answered by
// api.ErrorHandler. Every answer is validated against openapi.json: t fails
// when it ends if one did not match.
func newEcho(t testing.TB, x *api.API) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = api.ErrorHandler(slog.New(slog.DiscardHandler))
	x.Register(e)
	e.Use(apitest.Middleware(t))
	return e
}

// newKey creates an API key with scopes through the service and returns its secret.
func (a *apiBundle) newKey(t *testing.T, name string, scopes ...string) string {
	t.Helper()
	k, err := a.svc.CreateKey(context.Background(), issue.KeyRequest{Name: name, Scopes: scopes}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

// withOptions serves the API again over a's database, with other options.
func (a *apiBundle) withOptions(t *testing.T, opts issue.Options) *echo.Echo {
	t.Helper()
	svc := issue.NewService(a.store, a.hasher, func() time.Time { return a.now }, opts)
	return newEcho(t, api.New(svc, a.verifier(t)))
}

// newUser creates a user with the password "password-of-"+username.
func (a *apiBundle) newUser(t *testing.T, username string, roles ...string) issue.User {
	t.Helper()
	u, err := a.svc.CreateUser(context.Background(), issue.UserRequest{Username: username, Email: username + "@example.com",
		Password: "password-of-" + username, Roles: roles}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (a *apiBundle) login(t *testing.T, login, password string) (issue.Tokens, error) {
	t.Helper()
	return a.svc.Login(context.Background(), issue.LoginRequest{Login: login, Password: password}, a.by)
}

func (a *apiBundle) mustLogin(t *testing.T, username string) issue.Tokens {
	t.Helper()
	tok, err := a.login(t, username, "password-of-"+username)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return tok
}

func (a *apiBundle) refresh(token string) (issue.Tokens, error) {
	return a.svc.Refresh(context.Background(), token, a.by)
}

// claims verifies an access token the way the verifier would and returns its claims.
func (a *apiBundle) claims(t *testing.T, token string) verify.AccessClaims {
	t.Helper()
	var c verify.AccessClaims
	_, err := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return a.now })).ParseWithClaims(token, &c,
		func(*jwt.Token) (any, error) { return a.signer.secret, nil })
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	return c
}

// syncDenyList feeds the verifier's deny-list from the database, as the
// announcements on authgate_sessions do in production.
func (a *apiBundle) syncDenyList(t *testing.T) {
	t.Helper()
	revs, err := a.store.SessionRevocationsSince(context.Background(), 0, a.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range revs {
		a.deny.Add(r.SessionID, r.ExpiresAt)
	}
}

// do sends a request as a client at ip would; cred is an API key or an access token.
func (a *apiBundle) do(t *testing.T, method, path, cred, body string) *httptest.ResponseRecorder {
	t.Helper()
	return a.doFrom(t, "192.0.2.20", method, path, cred, body)
}

func (a *apiBundle) doFrom(t *testing.T, ip, method, path, cred, body string) *httptest.ResponseRecorder {
	t.Helper()
	return a.serve(a.request(t, ip, method, path, cred, body))
}

// request builds a request as a client at ip would send it, after bringing
// the deny-list up to date; serve answers it.
func (a *apiBundle) request(t *testing.T, ip, method, path, cred, body string) *http.Request {
	t.Helper()
	a.syncDenyList(t)
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Real-IP", ip)
	if cred != "" {
		r.Header.Set("Authorization", "Bearer "+cred)
	}
	return r
}

func (a *apiBundle) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	a.e.ServeHTTP(w, r)
	return w
}

// session returns session id as stored.
func (a *apiBundle) session(t *testing.T, id string) issue.Session {
	t.Helper()
	s, err := a.store.SessionByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// auditRows returns the audit rows of action, oldest first, with their metadata decoded.
func (a *apiBundle) auditRows(t *testing.T, action string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range a.audit(t) {
		if string(e.Action) != action {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal(e.Metadata, &m); err != nil {
			t.Fatal(err)
		}
		m["_resource_id"], m["_outcome"], m["_actor"] = e.ResourceID, e.Outcome, e.Actor
		out = append(out, m)
	}
	return out
}
