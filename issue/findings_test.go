package issue_test

// Tests for the abuse paths an outside review found on the public login
// endpoint and the management API, one per finding; each failed before its fix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

// resetBeforeTx is a Store that runs reset once, just before the next
// transaction begins: for Login, between the password check and the session.
type resetBeforeTx struct {
	issue.Store
	reset func()
}

func (r *resetBeforeTx) InTx(ctx context.Context, fn func(issue.Store) error) error {
	if f := r.reset; f != nil {
		r.reset = nil
		f()
	}
	return r.Store.InTx(ctx, fn)
}

func TestService_LoginRacingAPasswordResetStartsNoSession(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	ctx := context.Background()
	u := a.newUser(t, "ann")
	store := &resetBeforeTx{Store: a.store}
	racing := issue.NewService(store, a.hasher, func() time.Time { return a.now }, issue.Options{Signer: a.signer})
	store.reset = func() {
		if _, err := a.svc.UpdateUser(ctx, u.ID, issue.UserUpdate{Password: ptr("a new password after a leak")},
			issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
			t.Error(err)
		}
	}
	_, err := racing.Login(ctx, issue.LoginRequest{Login: "ann", Password: "password-of-ann"}, a.by)
	if !errors.Is(err, issue.ErrUnauthenticated) {
		t.Fatalf("login with the old password racing a reset: %v; want ErrUnauthenticated", err)
	}
	if live, err := a.store.SessionListLive(ctx, u.ID, a.now); err != nil || len(live) != 0 {
		t.Fatalf("live sessions = %v, %v; want none: the password proved is no longer the user's", live, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestAPI_RevokeCredentialsEndsEverything(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	ctx := context.Background()
	a.appPermission(t, "cameras:stream", "family")
	u := a.newUser(t, "ann", "family")
	first, second := a.mustLogin(t, "ann"), a.mustLogin(t, "ann")
	w := a.do(t, "POST", "/v1/me/tokens", first.AccessToken, `{"name":"hall","scopes":["cameras:stream"],"expires_in_days":30}`)
	if w.Code != 201 {
		t.Fatalf("create token: %d %s", w.Code, w.Body)
	}
	pt := decodeJSON[struct{ ID, Token string }](t, w)

	w = a.do(t, "DELETE", "/v1/users/"+u.ID+"/credentials", a.admin, "")
	got := decodeJSON[struct{ Sessions, Tokens []string }](t, w)
	if w.Code != 200 || len(got.Sessions) != 2 || !slices.Equal(got.Tokens, []string{pt.ID}) {
		t.Fatalf("%d %+v; want 200 naming both sessions and the token", w.Code, got)
	}
	for _, at := range []string{first.AccessToken, second.AccessToken} {
		if w := a.do(t, "GET", "/v1/me", at, ""); w.Code != 401 {
			t.Errorf("access token after the revocation: %d; want 401", w.Code)
		}
	}
	if _, err := a.refresh(first.RefreshToken); !errors.Is(err, issue.ErrUnauthenticated) {
		t.Errorf("refresh after the revocation: %v; want ErrUnauthenticated", err)
	}
	if _, err := a.bundle.verifier(t).Authenticate(ctx, pt.Token); !errors.Is(err, verify.ErrRevoked) {
		t.Errorf("personal token after the revocation: %v; want ErrRevoked", err)
	}
	if n := len(a.auditRows(t, "token.revoke")); n != 1 {
		t.Errorf("%d token.revoke rows; want 1", n)
	}
	// A user can do the same to themself, and nobody to someone holding more.
	a.mustLogin(t, "ann")
	at := a.mustLogin(t, "ann").AccessToken
	if w := a.do(t, "DELETE", "/v1/me/credentials", at, ""); w.Code != 200 {
		t.Fatalf("DELETE /v1/me/credentials: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/me", at, ""); w.Code != 401 {
		t.Errorf("own access token after DELETE /v1/me/credentials: %d; want 401", w.Code)
	}
	root := a.newUser(t, "root", issue.RoleAdmin)
	a.newUser(t, "um", "operator")
	ops := a.mustLogin(t, "um").AccessToken
	w = a.do(t, "DELETE", "/v1/users/"+root.ID+"/credentials", ops, "")
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, "users:write") {
		t.Errorf("operator ending an admin's credentials: %d %+v; want 403 naming users:write", w.Code, body)
	}
}

// appPermission creates permission perm and a role holding it.
func (a *apiBundle) appPermission(t *testing.T, perm, role string) {
	t.Helper()
	by := issue.Actor{ID: "test", Authority: issue.AllAuthority()}
	if _, err := a.svc.CreatePermission(context.Background(), perm, "", by); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.CreateRole(context.Background(), role, "", []string{perm}, by); err != nil {
		t.Fatal(err)
	}
}

func TestAPI_LoginWhenHashingIsFullIs503(t *testing.T) {
	a := setupAuth(t, issue.Options{HashConcurrency: 1})
	a.newUser(t, "ann")
	release := a.svc.HoldHashSlots()
	w := a.do(t, "POST", "/v1/auth/login", "", `{"login":"ann","password":"password-of-ann"}`)
	release()
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 503 || w.Header().Get("Retry-After") == "" || body.Error != "busy" {
		t.Fatalf("login while every hashing slot is taken: %d %q %+v; want 503 busy with Retry-After", w.Code, w.Header().Get("Retry-After"), body)
	}
	if n := len(a.auditRows(t, "user.login_failed")); n != 0 {
		t.Fatalf("%d failed logins recorded; want none: nothing was checked", n)
	}
	if w := a.do(t, "POST", "/v1/auth/login", "", `{"login":"ann","password":"password-of-ann"}`); w.Code != 200 {
		t.Fatalf("login once a slot is free: %d %s", w.Code, w.Body)
	}
}

func TestAPI_RefreshFailuresAreThrottledPerAddress(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "ann")
	good := a.mustLogin(t, "ann").RefreshToken
	var codes []int
	for range 25 {
		body := fmt.Sprintf(`{"refresh_token":%q}`, verify.NewKey(verify.PrefixRefreshToken).Reveal())
		codes = append(codes, a.doFrom(t, "192.0.2.66", "POST", "/v1/auth/refresh", "", body).Code)
	}
	if codes[0] != 401 || codes[24] != 429 {
		t.Fatalf("garbage refresh tokens from one address answered %v; want 401s, then 429", codes)
	}
	w := a.doFrom(t, "192.0.2.66", "POST", "/v1/auth/refresh", "", fmt.Sprintf(`{"refresh_token":%q}`, good))
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a throttled address: %d %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := a.doFrom(t, "192.0.2.67", "POST", "/v1/auth/refresh", "", fmt.Sprintf(`{"refresh_token":%q}`, good)); w.Code != 200 {
		t.Fatalf("another address: %d %s; want 200", w.Code, w.Body)
	}
}

// TestAPI_ClientBytesKeepTheLockoutCount sends what Postgres refuses in text
// (0xFF, NUL) as the request id and user agent of a wrong password: the
// failure is still counted and audited, under a request id of the server's.
func TestAPI_ClientBytesKeepTheLockoutCount(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "ann")
	r := a.request(t, "192.0.2.30", "POST", "/v1/auth/login", "", `{"login":"ann","password":"wrong password!"}`)
	r.Header.Set("X-Request-Id", "req-\xff")
	r.Header.Set("User-Agent", "agent\xff\x00\x07"+strings.Repeat("é", 700))
	w := a.serve(r)
	if w.Code != 401 {
		t.Fatalf("wrong password with odd bytes: %d %s; want 401", w.Code, w.Body)
	}
	if id := w.Header().Get("X-Request-Id"); !verify.ValidRequestID(id) || strings.Contains(id, "req-") {
		t.Errorf("X-Request-Id = %q; want one of the server's", id)
	}
	cur, err := a.store.UserByID(context.Background(), u.ID)
	if err != nil || cur.FailedLogins != 1 {
		t.Fatalf("failed logins = %d (%v); want 1", cur.FailedLogins, err)
	}
	rows := a.audit(t)
	last := rows[len(rows)-1]
	if last.Action != "user.login_failed" || last.RequestID != w.Header().Get("X-Request-Id") ||
		!utf8.ValidString(last.UserAgent) || strings.ContainsAny(last.UserAgent, "\x00\x07") || len([]rune(last.UserAgent)) > 512 {
		t.Fatalf("last audit row = %+v; want the failed login with a clean user agent", last)
	}
}

func TestAPI_PersonalTokensAndStaticKeysAreRefused(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.appPermission(t, "cameras:stream", "family")
	a.newUser(t, "ann", "family")
	at := a.mustLogin(t, "ann").AccessToken
	pt := decodeJSON[struct{ Token string }](t, a.do(t, "POST", "/v1/me/tokens", at,
		`{"name":"hall","scopes":["cameras:stream"],"expires_in_days":30}`)).Token
	for _, path := range []string{"/v1/keys", "/v1/users", "/v1/audit"} {
		w := a.do(t, "GET", path, pt, "")
		if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, "personal tokens and static keys") {
			t.Errorf("GET %s with a personal token: %d %+v; want 403 saying personal tokens cannot", path, w.Code, body)
		}
	}
}

func TestService_EmailReadsAsItIs(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	for name, email := range map[string]string{
		"ZeroWidth": "ann\u200b@example.com", "Bidi": "ann\u202e@example.com", "Control": "ann\u0007@example.com",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := a.svc.CreateUser(context.Background(), issue.UserRequest{Username: "ann", Email: email,
				Password: "a long enough password"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
			if !errors.Is(err, issue.ErrInvalid) || !strings.Contains(err.Error(), "email") {
				t.Fatalf("email %q: %v; want a FieldError on email", email, err)
			}
		})
	}
}

// TestService_LargestCatalogueFitsAToken fills the permission catalogue to
// MaxCatalogueLen with the longest names, gives an admin with the longest
// username and email MaxUserRoles roles of the longest names, and checks that
// the ES256 access token login answers with verifies, and that its identity
// headers fit nginx's default 4 KiB proxy_buffer_size.
func TestService_LargestCatalogueFitsAToken(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	by := issue.Actor{ID: "test", Authority: issue.AllAuthority()}
	keys := b.signingKeys(t, verify.AlgES256, nil)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	b.svc = issue.NewService(b.store, b.hasher, func() time.Time { return b.now }, issue.Options{Signer: keys})
	for i := 0; ; i++ {
		name := fmt.Sprintf("p%02d:%s", i, strings.Repeat("x", 96))
		if _, err := b.svc.CreatePermission(ctx, name, "", by); err != nil {
			if !errors.Is(err, issue.ErrInvalid) || !strings.Contains(err.Error(), "catalogue is full") {
				t.Fatal(err)
			}
			break
		}
	}
	for i := 0; ; i++ { // fill what is left with short names
		if _, err := b.svc.CreatePermission(ctx, fmt.Sprintf("s%d:x", i), "", by); err != nil {
			if !strings.Contains(err.Error(), "catalogue is full") {
				t.Fatal(err)
			}
			break
		}
	}
	var roles []string
	for i := range issue.MaxUserRoles - 1 {
		name := fmt.Sprintf("%02d%s", i, strings.Repeat("r", 62))
		if _, err := b.svc.CreateRole(ctx, name, "", nil, by); err != nil {
			t.Fatal(err)
		}
		roles = append(roles, name)
	}
	username := strings.Repeat("u", issue.MaxUsernameLen)
	email := strings.Repeat("e", 64) + "@" + strings.Repeat("d", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("d", 57) + ".io"
	if _, err := b.svc.CreateUser(ctx, issue.UserRequest{Username: username, Email: email, Password: "a long enough password",
		Roles: append(roles, issue.RoleAdmin)}, by); err != nil {
		t.Fatal(err)
	}
	tok, err := b.svc.Login(ctx, issue.LoginRequest{Login: username, Password: "a long enough password"}, issue.Actor{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(b.store, b.hasher, verify.Options{Now: func() time.Time { return b.now },
		JWT: &verify.JWTOptions{Issuer: "authgate", Audience: "authgate", Keys: keys, Revoked: verify.NewDenyList(func() time.Time { return b.now })}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("the largest admin token (%d bytes) does not verify: %v", len(tok.AccessToken), err)
	}
	h := http.Header{}
	p.WriteHeaders(h)
	h.Set("X-Request-Id", strings.Repeat("r", 64))
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", "0")
	size := len("HTTP/1.1 200 OK\r\n\r\n")
	for name, vals := range h {
		for _, val := range vals {
			size += len(name) + len(": \r\n") + len(val)
		}
	}
	t.Logf("largest admin token: %d bytes (limit %d); answer headers %d bytes (nginx proxy_buffer_size 4096)",
		len(tok.AccessToken), verify.MaxCredentialLen, size)
	if size > 4096 || len(tok.AccessToken) > verify.MaxCredentialLen {
		t.Fatalf("token %d bytes, headers %d bytes; want at most %d and 4096", len(tok.AccessToken), size, verify.MaxCredentialLen)
	}
	if !p.HasScope(issue.ScopeAdmin) || len(p.Roles) != issue.MaxUserRoles {
		t.Fatalf("principal roles %v scopes %d; want every role and authgate:admin", p.Roles, len(p.Scopes))
	}
}

// TestService_LegacyRowsAreReportedAndRefusedOnUse arranges what an earlier
// version allowed (a permission with *, a personal token carrying keys:write):
// each is reported, none is rewritten, and neither reaches a token.
func TestService_LegacyRowsAreReportedAndRefusedOnUse(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	ctx := context.Background()
	dbtest.Exec(t, a.url, `ALTER TABLE permissions DROP CONSTRAINT permissions_name_check`)
	dbtest.Exec(t, a.url, `INSERT INTO permissions (name) VALUES ('events:*')`)
	u := a.newUser(t, "ann", "admin")
	d := issue.PersonalTokenDraft{ID: "tok_legacy", LookupID: "legacylookup", SecretMAC: []byte("x"), MACVersion: 1,
		UserID: u.ID, Name: "old", Scopes: []string{"keys:write", "events:read"}, ExpiresAt: a.now.Add(time.Hour), CreatedAt: a.now}
	if _, err := a.store.PersonalTokenInsert(ctx, d); err != nil {
		t.Fatal(err)
	}
	found, err := a.svc.Legacy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(found, "\n")
	if len(found) != 2 || !strings.Contains(joined, `"events:*"`) || !strings.Contains(joined, "tok_legacy") {
		t.Fatalf("Legacy = %q; want the permission and the token named", found)
	}
	scope := a.claims(t, a.mustLogin(t, "ann").AccessToken).Scope
	if strings.Contains(scope, "events:*") || !strings.Contains(scope, issue.ScopeAdmin) {
		t.Fatalf("admin's scope claim %q; want authgate:admin without events:*", scope)
	}
	rec, err := a.store.TokenByLookupID(ctx, "legacylookup")
	if err != nil || slices.Contains(rec.Scopes, "keys:write") {
		t.Fatalf("effective scopes %v (%v); want keys:write left out", rec.Scopes, err)
	}
	if ps, _ := a.svc.ListPermissions(ctx); !slices.ContainsFunc(ps, func(p issue.Permission) bool { return p.Name == "events:*" }) {
		t.Fatal("the legacy permission was rewritten or deleted")
	}
	b := must(json.Marshal(found))(t)
	t.Logf("reported: %s", b)
}
