package issue_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

func TestAuthority_Missing(t *testing.T) {
	tests := []struct {
		name       string
		have, need issue.Authority
		want       string
	}{
		{"NothingNeedsNothing", issue.Authority{}, issue.Authority{}, ""},
		{"NothingLacksOne", issue.Authority{}, issue.AuthorityOf([]string{"keys:write"}), "keys:write"},
		{"SubsetCovers", issue.AuthorityOf([]string{"a:b", "c:d"}), issue.AuthorityOf([]string{"c:d"}), ""},
		{"NamesTheMissingOne", issue.AuthorityOf([]string{"a:b"}), issue.AuthorityOf([]string{"a:b", "c:d"}), "c:d"},
		{"AllNeedsAll", issue.AuthorityOf([]string{"a:b", "keys:write"}), issue.AllAuthority(), issue.ScopeAdmin},
		{"AdminScopeIsAll", issue.AuthorityOf([]string{issue.ScopeAdmin}), issue.AllAuthority(), ""},
		{"AllCoversAny", issue.AllAuthority(), issue.AuthorityOf([]string{"x:y"}), ""},
		{"ScopesAreStrings", issue.AuthorityOf([]string{"events:read"}), issue.AuthorityOf([]string{"events:*"}), "events:*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.have.Missing(tt.need); got != tt.want {
				t.Fatalf("Missing = %q; want %q", got, tt.want)
			}
		})
	}
}

// world is a management API with principals of every power: an admin user
// (root) with a session and a personal token, an admin key, users and keys
// holding each management permission alone, and a personal token and a
// static key as callers.
type world struct {
	*apiBundle
	rootID, plainID, adminKeyID, rootTokenID string
	callers                                  []*matrixCaller
	n                                        int // numbers the names bodies create
}

// matrixCaller is one credential that tries every mutating route.
type matrixCaller struct {
	name     string
	cred     string
	user     string // the username, for a user's access token: logged in again when it stops working
	userID   string
	keyID    string   // for an API key
	holds    []string // nil: nothing on the management API
	refused  bool     // a personal token or a static key: 403 everywhere
	session  string
	verifier *verify.Verifier
}

const staticSecret = "static-key-for-the-matrix-0001"

func setupWorld(t *testing.T) *world {
	t.Helper()
	w := &world{apiBundle: setupAuth(t, issue.Options{})}
	ctx := context.Background()
	root := issue.Actor{ID: "test", Authority: issue.AllAuthority()}
	static, err := verify.NewStaticKeys([]verify.StaticKey{{Key: staticSecret, Name: "matrix",
		Scopes: []string{issue.PermKeysWrite, issue.PermUsersWrite, issue.PermRolesWrite}}}, w.hasher)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(w.store, w.hasher, verify.Options{
		Now: func() time.Time { return w.now }, Logger: slog.New(slog.DiscardHandler), StaticKeys: static, Tokens: w.store,
		CacheTTL: 100 * time.Millisecond, NegativeCacheTTL: 100 * time.Millisecond,
		JWT: &verify.JWTOptions{Issuer: "authgate", Audience: "authgate", Keys: w.signer, Revoked: w.deny}})
	if err != nil {
		t.Fatal(err)
	}
	w.e = newEcho(t, api.New(w.svc, v))

	for _, p := range []string{"events:read", "cameras:stream"} {
		if _, err := w.svc.CreatePermission(ctx, p, "", root); err != nil {
			t.Fatal(err)
		}
	}
	roles := map[string][]string{
		"keymaster":  {issue.PermKeysRead, issue.PermKeysWrite},
		"usermaster": {issue.PermUsersRead, issue.PermUsersWrite},
		"rolemaster": {issue.PermRolesRead, issue.PermRolesWrite},
		"ender":      {issue.PermUsersRead, issue.PermSessionsWrite},
		"family":     {"events:read"},
	}
	for name, perms := range roles {
		if _, err := w.svc.CreateRole(ctx, name, "", perms, root); err != nil {
			t.Fatal(err)
		}
	}
	w.rootID = w.newUser(t, "root", issue.RoleAdmin).ID
	w.plainID = w.newUser(t, "plain").ID
	if _, err := w.svc.SignInExternal(ctx, "home.example", issue.ExternalIdentity{Provider: "pocket", Issuer: pocketIssuer,
		Subject: "root-sub", Email: "root@example.com", EmailVerified: true}, issue.ProviderPolicy{LinkByVerifiedEmail: true},
		issue.BrowserSignIn{}, issue.Actor{}); err != nil {
		t.Fatal(err)
	}
	w.mustLogin(t, "root")
	tok, err := w.svc.CreateToken(ctx, w.rootID, issue.TokenRequest{Name: "root kiosk", Scopes: []string{"events:read"},
		ExpiresInDays: days(30)}, root)
	if err != nil {
		t.Fatal(err)
	}
	w.rootTokenID = tok.ID
	adminKey, err := w.store.KeyList(ctx, issue.KeyFilter{Now: w.now, Limit: 10})
	if err != nil || len(adminKey) != 1 {
		t.Fatalf("keys = %v, %v; want the admin key alone", adminKey, err)
	}
	w.adminKeyID = adminKey[0].ID

	for _, r := range []string{"operator", "viewer", "keymaster", "usermaster", "rolemaster", "ender", "family"} {
		u := w.newUser(t, "as-"+r, r)
		c := &matrixCaller{name: "user(" + r + ")", user: u.Username, userID: u.ID, verifier: v}
		w.relogin(t, c)
		w.callers = append(w.callers, c)
	}
	for name, scopes := range map[string][]string{
		"key(keys:write)": {issue.PermKeysRead, issue.PermKeysWrite}, "key(users:write)": {issue.PermUsersWrite},
		"key(roles:write)": {issue.PermRolesWrite}, "key(sessions:write)": {issue.PermSessionsWrite},
		"key(operator)": {"keys:read", "keys:write", "users:read", "roles:read", "sessions:write", "audit:read", "events:read"},
	} {
		k, err := w.svc.CreateKey(ctx, issue.KeyRequest{Name: name, Scopes: scopes}, root)
		if err != nil {
			t.Fatal(err)
		}
		w.callers = append(w.callers, &matrixCaller{name: name, cred: k.Secret, keyID: k.ID, holds: k.Scopes})
	}
	pt, err := w.svc.CreateToken(ctx, w.rootID, issue.TokenRequest{Name: "root phone", Scopes: []string{"events:read"},
		ExpiresInDays: days(30)}, root)
	if err != nil {
		t.Fatal(err)
	}
	w.callers = append(w.callers,
		&matrixCaller{name: "personal token", cred: pt.Secret, refused: true},
		&matrixCaller{name: "static key", cred: staticSecret, refused: true})
	return w
}

// relogin gives a user caller a fresh session, and reads what the user holds.
func (w *world) relogin(t *testing.T, c *matrixCaller) {
	t.Helper()
	tok := w.mustLogin(t, c.user)
	c.cred, c.session = tok.AccessToken, w.claims(t, tok.AccessToken).SessionID
}

// ready makes sure a user caller's access token still works (a route it just
// tried may have ended its own session) and returns what the caller holds now.
func (w *world) ready(t *testing.T, c *matrixCaller, s snapshot) (holds []string, all bool) {
	t.Helper()
	if c.user == "" {
		if c.keyID != "" {
			if k, ok := s.keys[c.keyID]; ok {
				return k.held, k.all
			}
		}
		return c.holds, false
	}
	w.syncDenyList(t)
	if _, err := c.verifier.Authenticate(context.Background(), c.cred); err != nil {
		w.relogin(t, c)
	}
	u := s.users[c.userID]
	return u.held, u.all
}

// principal is what one user, key or role holds, and what can be done to it.
type principal struct {
	held  []string
	all   bool
	attrs string // everything else that acting upon it could change
}

type snapshot struct {
	users, keys, roles map[string]principal
}

func (w *world) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{users: map[string]principal{}, keys: map[string]principal{}, roles: map[string]principal{}}
	users, err := w.store.UserList(ctx, issue.UserFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		roles, err1 := w.store.UserRoles(ctx, u.ID)
		perms, err2 := w.store.UserPermissions(ctx, u.ID)
		sessions, err3 := w.store.SessionListLive(ctx, u.ID, w.now)
		tokens, err4 := w.store.PersonalTokenListByUser(ctx, u.ID)
		links, err5 := w.store.IdentityListByUser(ctx, u.ID)
		if err := cmpErr(err1, err2, err3, err4, err5); err != nil {
			t.Fatal(err)
		}
		var live []string
		for _, x := range sessions {
			live = append(live, x.ID)
		}
		for _, x := range tokens {
			if x.RevokedAt == nil {
				live = append(live, x.ID)
			}
		}
		for _, l := range links {
			live = append(live, l.Issuer+" "+l.Subject)
		}
		s.users[u.ID] = principal{held: perms, all: slices.Contains(roles, issue.RoleAdmin),
			attrs: fmt.Sprint(u.PasswordHash, u.Email, u.FullName, u.Username, u.DisabledAt, live)}
	}
	keys, err := w.store.KeyList(ctx, issue.KeyFilter{Now: w.now, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		s.keys[k.ID] = principal{held: k.Scopes, all: slices.Contains(k.Scopes, issue.ScopeAdmin),
			attrs: fmt.Sprint(k.RevokedAt, k.DisabledAt, k.ExpiresAt, k.Name, k.Metadata)}
	}
	roles, err := w.store.RoleList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		s.roles[r.Name] = principal{held: r.Permissions, all: r.Name == issue.RoleAdmin}
	}
	return s
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// covers reports whether a caller holding holds (or all) holds every
// permission of p, and names one it lacks.
func covers(holds []string, all bool, p principal) (string, bool) {
	switch {
	case all:
		return "", true
	case p.all:
		return issue.ScopeAdmin, false
	}
	for _, h := range p.held {
		if !slices.Contains(holds, h) {
			return h, false
		}
	}
	return "", true
}

// violations compares two snapshots around one call by a caller holding holds
// (or all): nobody gained or lost a permission the caller lacks, nothing
// holding a permission the caller lacks was acted upon, nothing new holds a
// permission the caller lacks.
func violations(before, after snapshot, holds []string, all bool) []string {
	var out []string
	check := func(kind string, b, a map[string]principal) {
		for id, pb := range b {
			pa, ok := a[id]
			switch {
			case !ok || pa.attrs != pb.attrs:
				if p, ok := covers(holds, all, pb); !ok {
					out = append(out, fmt.Sprintf("%s %s, holding %s, was acted upon", kind, id, p))
				}
			}
			if !ok {
				continue
			}
			gained := principal{held: diff(pa.held, pb.held), all: pa.all && !pb.all}
			lost := principal{held: diff(pb.held, pa.held), all: pb.all && !pa.all}
			if pb.all && pa.all {
				gained, lost = principal{}, principal{}
			}
			if p, ok := covers(holds, all, gained); !ok {
				out = append(out, fmt.Sprintf("%s %s gained %s", kind, id, p))
			}
			if p, ok := covers(holds, all, lost); !ok {
				out = append(out, fmt.Sprintf("%s %s lost %s", kind, id, p))
			}
		}
		for id, pa := range a {
			if _, ok := b[id]; ok {
				continue
			}
			if p, ok := covers(holds, all, pa); !ok {
				out = append(out, fmt.Sprintf("new %s %s holds %s", kind, id, p))
			}
		}
	}
	check("user", before.users, after.users)
	check("key", before.keys, after.keys)
	check("role", before.roles, after.roles)
	return out
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// attackBodies are the bodies tried on routes that take one, each reaching
// for more than most callers hold. A route not listed gets {}: a new route
// is tried whether or not anyone remembers to add it here.
var attackBodies = map[string][]string{
	"POST /v1/keys":                    {`{"name":"x","scopes":["authgate:admin"]}`, `{"name":"x","scopes":["signing_keys:write"]}`, `{"name":"x","scopes":["keys:read"]}`},
	"POST /v1/keys/:id/rotate":         {`{"grace_seconds":0}`},
	"POST /v1/users":                   {`{"username":"n{n}","email":"n{n}@example.com","password":"a long enough password","roles":["admin"]}`, `{"username":"m{n}","email":"m{n}@example.com","password":"a long enough password","roles":["operator"]}`},
	"PATCH /v1/users/:id":              {`{"password":"the attacker's password"}`, `{"email":"e{n}@example.com"}`},
	"POST /v1/roles":                   {`{"name":"r{n}","permissions":["signing_keys:write"]}`, `{"name":"q{n}","permissions":["keys:write","users:write"]}`},
	"POST /v1/permissions":             {`{"name":"authgate:root"}`, `{"name":"app{n}:x"}`},
	"POST /v1/me/tokens":               {`{"name":"t{n}","scopes":["keys:write"],"expires_in_days":1}`, `{"name":"u{n}","scopes":["events:read"],"expires_in_days":1}`},
	"POST /v1/auth/logout":             {`{}`, `{"all":true}`},
	"POST /v1/auth/register":           nil, // open: never reaches authority
	"POST /v1/auth/login":              nil,
	"POST /v1/auth/refresh":            nil,
	"POST /v1/auth/oauth/login":        nil, // open: the provider's ID token is the credential
	"POST /v1/signing-keys/rotate":     {`{}`},
	"DELETE /v1/me/sessions/:id":       {``},
	"POST /v1/users/:id/disable":       {``},
	"POST /v1/keys/:id/revoke":         {``},
	"DELETE /v1/users/:id/sessions":    {``},
	"DELETE /v1/users/:id/credentials": {``},
	"DELETE /v1/users/:id/identities":  {`{"issuer":"https://id.home.example","subject":"root-sub"}`},
	"DELETE /v1/me/identities":         {`{"issuer":"https://id.home.example","subject":"root-sub"}`},
}

// paths fills a route's parameters with targets more powerful than most
// callers, and with the caller itself where acting on oneself is the attack.
func (w *world) paths(t *testing.T, route string, c *matrixCaller) []string {
	t.Helper()
	fill := func(path string, vals map[string]string) string {
		for k, v := range vals {
			path = strings.ReplaceAll(path, ":"+k, v)
		}
		if strings.Contains(path, "/:") {
			t.Fatalf("route %s: no target for a parameter of %s; teach paths about it", route, path)
		}
		return path
	}
	self := c.userID
	if self == "" {
		self = w.plainID
	}
	switch {
	case strings.HasPrefix(route, "/v1/keys/:id"):
		return []string{fill(route, map[string]string{"id": w.adminKeyID})}
	case route == "/v1/users/:id/roles/:role":
		return []string{
			fill(route, map[string]string{"id": w.rootID, "role": issue.RoleAdmin}),
			fill(route, map[string]string{"id": self, "role": issue.RoleAdmin}),
			fill(route, map[string]string{"id": self, "role": "operator"}),
		}
	case strings.HasPrefix(route, "/v1/users/:id/tokens/:tid"): // and …/usage
		return []string{fill(route, map[string]string{"id": w.rootID, "tid": w.rootTokenID})}
	case strings.HasPrefix(route, "/v1/users/:id"):
		return []string{fill(route, map[string]string{"id": w.rootID})}
	case route == "/v1/roles/:name/permissions/:perm":
		return []string{
			fill(route, map[string]string{"name": "family", "perm": issue.PermSigningKeysWrite}),
			fill(route, map[string]string{"name": "operator", "perm": issue.PermKeysWrite}),
			fill(route, map[string]string{"name": "family", "perm": "events:read"}),
		}
	case route == "/v1/roles/:name":
		return []string{fill(route, map[string]string{"name": "operator"}), fill(route, map[string]string{"name": "family"})}
	case route == "/v1/permissions/:name":
		return []string{fill(route, map[string]string{"name": "events:read"}), fill(route, map[string]string{"name": "cameras:stream"})}
	case route == "/v1/me/sessions/:id":
		return []string{fill(route, map[string]string{"id": "ses_" + c.session + "x"}),
			fill(route, map[string]string{"id": "ses_" + strings.TrimPrefix(c.session, "ses_")})}
	case strings.HasPrefix(route, "/v1/me/tokens/:id"): // and …/usage
		return []string{fill(route, map[string]string{"id": w.rootTokenID})}
	}
	return []string{fill(route, nil)}
}

// TestAPI_AuthorityMatrix is generated from the route table: every mutating
// route, tried by callers of every built-in role, of narrow custom roles, by
// API keys holding one management permission, by a personal token and by a
// static key, against targets more powerful than themselves. After every
// call, nobody gained or lost a permission the caller lacks, and nothing that
// holds a permission the caller lacks was acted upon.
func TestAPI_AuthorityMatrix(t *testing.T) {
	w := setupWorld(t)
	calls, allowed := 0, 0
	for _, r := range w.e.Routes() {
		route := r.Method + " " + r.Path
		if r.Method == "GET" || r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") || r.Path == "/v1" {
			continue
		}
		bodies, listed := attackBodies[route]
		if listed && bodies == nil {
			continue // open routes: the password or refresh token is the credential
		}
		if !listed {
			bodies = []string{`{}`}
		}
		for _, c := range w.callers {
			for _, path := range w.paths(t, r.Path, c) {
				for _, body := range bodies {
					w.n++
					body := strings.ReplaceAll(body, "{n}", strconv.Itoa(w.n))
					before := w.snapshot(t)
					holds, all := w.ready(t, c, before)
					resp := w.do(t, r.Method, path, c.cred, body)
					calls++
					if resp.Code < 300 {
						allowed++
					}
					if c.refused && resp.Code != 403 {
						t.Errorf("%s %s %s by %s: %d; want 403 for every personal token and static key", r.Method, path, body, c.name, resp.Code)
					}
					if resp.Code >= 500 {
						t.Errorf("%s %s %s by %s: %d %s", r.Method, path, body, c.name, resp.Code, resp.Body)
					}
					for _, v := range violations(before, w.snapshot(t), holds, all) {
						t.Errorf("%s %s %s by %s (%d): %s", r.Method, path, body, c.name, resp.Code, v)
					}
				}
			}
		}
	}
	t.Logf("%d calls, %d allowed", calls, allowed)
	if calls < 500 || allowed < 25 {
		t.Fatalf("%d calls, %d allowed: the matrix no longer reaches the routes (is Register still wiring them?)", calls, allowed)
	}
}
