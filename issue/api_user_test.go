package issue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// route is one management route and the permission it needs.
type route struct{ method, path, perm string }

// checkRoutePermissions asserts, for each route: 401 with WWW-Authenticate
// without a credential, 403 naming the permission for a key without it, and
// neither for a key holding exactly that permission or authgate:admin.
func checkRoutePermissions(t *testing.T, a *apiBundle, routes []route) {
	t.Helper()
	keys := map[string]string{}
	keyWith := func(perm string) string {
		if keys[perm] == "" {
			w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"only `+perm+`","scopes":["`+perm+`"]}`)
			if w.Code != 201 {
				t.Fatalf("create a key with %s: %d %s", perm, w.Code, w.Body)
			}
			keys[perm] = decodeJSON[api.IssuedKey](t, w).Secret
		}
		return keys[perm]
	}
	for _, rt := range routes {
		t.Run(rt.method+rt.path, func(t *testing.T) {
			if w := a.do(t, rt.method, rt.path, "", "{}"); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("no credential: %d %q; want 401 with WWW-Authenticate", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			w := a.do(t, rt.method, rt.path, a.plain, "{}")
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, rt.perm) {
				t.Errorf("key without %s: %d %+v; want 403 naming the permission", rt.perm, w.Code, body)
			}
			other := issue.PermUsersRead // a permission of the wrong kind
			if rt.perm == other {
				other = issue.PermRolesRead
			}
			if w := a.do(t, rt.method, rt.path, keyWith(other), "{}"); w.Code != 403 {
				t.Errorf("key with only %s: %d; want 403", other, w.Code)
			}
			if w := a.do(t, rt.method, rt.path, keyWith(rt.perm), "{}"); w.Code == 401 || w.Code == 403 {
				t.Errorf("key with exactly %s: %d %s; want neither 401 nor 403", rt.perm, w.Code, w.Body)
			}
			if w := a.do(t, rt.method, rt.path, a.admin, "{}"); w.Code == 401 || w.Code == 403 {
				t.Errorf("admin key: %d %s; want neither 401 nor 403", w.Code, w.Body)
			}
		})
	}
}

func TestAPI_UserRoutesNeedTheirPermission(t *testing.T) {
	a := setupAPI(t)
	checkRoutePermissions(t, a, []route{
		{"POST", "/v1/users", issue.PermUsersWrite},
		{"GET", "/v1/users", issue.PermUsersRead},
		{"GET", "/v1/users/usr_x", issue.PermUsersRead},
		{"PATCH", "/v1/users/usr_x", issue.PermUsersWrite},
		{"POST", "/v1/users/usr_x/disable", issue.PermUsersWrite},
		{"POST", "/v1/users/usr_x/enable", issue.PermUsersWrite},
		{"DELETE", "/v1/users/usr_x", issue.PermUsersWrite},
		{"GET", "/v1/users/usr_x/permissions", issue.PermUsersRead},
		{"GET", "/v1/users/usr_x/roles", issue.PermUsersRead},
		// A role that does not exist: handing out a real one needs its permissions too
		// (TestAPI_RolesCannotBeHandedOutBeyondTheCallersPermissions).
		{"PUT", "/v1/users/usr_x/roles/no-such-role", issue.PermUsersWrite},
		{"DELETE", "/v1/users/usr_x/roles/viewer", issue.PermUsersWrite},
	})
}

func TestAPI_RolesCannotBeHandedOutBeyondTheCallersPermissions(t *testing.T) {
	a := setupAPI(t)
	keyWith := func(scopes string) string {
		w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"k","scopes":[`+scopes+`]}`)
		if w.Code != 201 {
			t.Fatalf("create key: %d %s", w.Code, w.Body)
		}
		return decodeJSON[api.IssuedKey](t, w).Secret
	}
	manager := keyWith(`"users:write","users:read"`)
	viewerPerms := keyWith(`"users:write","users:read","keys:read","roles:read"`)
	w := a.do(t, "POST", "/v1/users", a.admin, createUserJSON("erin"))
	if w.Code != 201 {
		t.Fatalf("create erin: %d %s", w.Code, w.Body)
	}
	erin := decodeJSON[api.User](t, w).ID
	tests := []struct {
		name, method, path, cred, body string
		want                           int
		naming                         string
	}{
		{"AdminByAssignment", "PUT", "/v1/users/" + erin + "/roles/admin", manager, "", 403, issue.ScopeAdmin},
		{"AdminAtCreation", "POST", "/v1/users", manager, createUserJSON("mallory", "admin"), 403, issue.ScopeAdmin},
		{"ViewerWithoutKeysRead", "PUT", "/v1/users/" + erin + "/roles/viewer", manager, "", 403, "keys:read"},
		{"ViewerWithItsPermissions", "PUT", "/v1/users/" + erin + "/roles/viewer", viewerPerms, "", 200, ""},
		{"AdminByAnAdmin", "PUT", "/v1/users/" + erin + "/roles/admin", a.admin, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, tt.method, tt.path, tt.cred, tt.body)
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.naming) {
				t.Fatalf("got %d %s; want %d naming %q", w.Code, w.Body, tt.want, tt.naming)
			}
		})
	}
	if w := a.do(t, "GET", "/v1/users?limit=10", a.admin, ""); strings.Contains(w.Body.String(), "mallory") {
		t.Errorf("mallory was created although the request was refused")
	}
}

// createUserJSON is a valid POST /v1/users body for name.
func createUserJSON(name string, roles ...string) string {
	r := `[]`
	if len(roles) > 0 {
		r = `["` + strings.Join(roles, `","`) + `"]`
	}
	return fmt.Sprintf(`{"username":%q,"email":"%s@example.com","full_name":"Test User","password":%q,"roles":%s}`,
		name, name, userPassword, r)
}

func TestAPI_UserBadInputIsA400NamingTheProblem(t *testing.T) {
	a := setupAPI(t)
	victim := decodeJSON[api.User](t, a.do(t, "POST", "/v1/users", a.admin, createUserJSON("victim")))
	u := "/v1/users/" + victim.ID
	tests := []struct {
		name, method, path, body, want string
	}{
		{"Garbage", "POST", "/v1/users", `not json`, "malformed JSON"},
		{"EmptyBody", "POST", "/v1/users", ``, "body is empty"},
		{"UnknownField", "POST", "/v1/users", `{"username":"a","password_hash":"x"}`, "password_hash: unknown field"},
		{"WrongType", "POST", "/v1/users", `{"username":"a","roles":"admin"}`, "roles: must be an array"},
		{"Oversized", "POST", "/v1/users", `{"full_name":"` + strings.Repeat("a", api.MaxBodyLen) + `"}`, "larger than"},
		{"BadUsername", "POST", "/v1/users", strings.Replace(createUserJSON("x"), `"x"`, `"a b"`, 1), "username:"},
		{"LongUsername", "POST", "/v1/users", createUserJSON(strings.Repeat("a", 65)), "username:"},
		{"BadEmail", "POST", "/v1/users", strings.Replace(createUserJSON("x"), "x@example.com", "x at example", 1), "email:"},
		{"ShortPassword", "POST", "/v1/users", strings.Replace(createUserJSON("x"), userPassword, "short", 1), "password: must be at least 12"},
		{"LongPassword", "POST", "/v1/users", strings.Replace(createUserJSON("x"), userPassword, strings.Repeat("é", 257), 1), "password: must be at most 256"},
		{"UnknownRole", "POST", "/v1/users", createUserJSON("x", "viewer", "ops"), `roles: unknown role "ops"`},
		{"PatchNothing", "PATCH", u, `{}`, "nothing to change"},
		{"PatchUsername", "PATCH", u, `{"username":"new"}`, "username: unknown field"},
		{"PatchShortPassword", "PATCH", u, `{"password":"short"}`, "password: must be at least 12"},
		{"PatchBadEmail", "PATCH", u, `{"email":"Ada <a@example.com>"}`, "email:"},
		{"PatchNameNotString", "PATCH", u, `{"full_name":7}`, "full_name: must be a string"},
		{"DisableWithBody", "POST", u + "/disable", `{"reason":"x"}`, "reason: unknown field"},
		{"BadLimit", "GET", "/v1/users?limit=500", ``, "limit: must be between"},
		{"BadCursor", "GET", "/v1/users?cursor=zzz", ``, "cursor:"},
		{"UnknownParam", "GET", "/v1/users?state=active", ``, "state: unknown query parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, tt.method, tt.path, a.admin, tt.body)
			body := decodeJSON[api.ErrorBody](t, w)
			if w.Code != 400 || body.Error != "invalid_request" || !strings.Contains(body.Description, tt.want) {
				t.Fatalf("%d %+v; want 400 invalid_request mentioning %q", w.Code, body, tt.want)
			}
		})
	}
	if n, _ := a.store.UserCount(context.Background()); n != 1 {
		t.Fatalf("%d users after bad requests; want only the victim", n)
	}
	got := decodeJSON[api.User](t, a.do(t, "GET", u, a.admin, ""))
	if got.Email != victim.Email || got.FullName != victim.FullName || got.DisabledAt != nil || !got.UpdatedAt.Equal(victim.UpdatedAt) {
		t.Fatalf("the victim changed: %+v", got)
	}
}

func TestAPI_UserDuplicatesAre409(t *testing.T) {
	a := setupAPI(t)
	a.do(t, "POST", "/v1/users", a.admin, createUserJSON("ada"))
	for name, tt := range map[string]struct{ body, want string }{
		"Username": {strings.Replace(createUserJSON("ADA"), "ADA@example.com", "other@example.com", 1), "username already taken"},
		"Email":    {strings.Replace(createUserJSON("other"), "other@example.com", "Ada@Example.COM", 1), "email already taken"},
	} {
		t.Run(name, func(t *testing.T) {
			w := a.do(t, "POST", "/v1/users", a.admin, tt.body)
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 409 || body.Description != tt.want {
				t.Fatalf("%d %+v; want 409 %q", w.Code, body, tt.want)
			}
		})
	}
}

func TestAPI_UserLifecycle(t *testing.T) {
	a := setupAPI(t)
	w := a.do(t, "POST", "/v1/users", a.admin, createUserJSON("ada", "viewer"))
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	u := decodeJSON[api.User](t, w)
	if !strings.HasPrefix(u.ID, "usr_") || !slices.Equal(u.Roles, []string{"viewer"}) {
		t.Fatalf("create answered %s", w.Body)
	}
	path := "/v1/users/" + u.ID
	for _, p := range []string{path, "/v1/users", path + "/roles", path + "/permissions"} {
		w := a.do(t, "GET", p, a.admin, "")
		if body := w.Body.String(); w.Code != 200 || strings.Contains(body, "password") || strings.Contains(body, "argon2") {
			t.Fatalf("GET %s: %d %s; want 200 without a password or its hash", p, w.Code, body)
		}
	}
	if w := a.do(t, "GET", "/v1/users/usr_nope", a.admin, ""); w.Code != 404 {
		t.Fatalf("unknown user: %d; want 404", w.Code)
	}

	w = a.do(t, "PATCH", path, a.admin, `{"full_name":"Ada King","password":"a whole new passphrase"}`)
	if got := decodeJSON[api.User](t, w); w.Code != 200 || got.FullName != "Ada King" || strings.Contains(w.Body.String(), "passphrase") {
		t.Fatalf("patch: %d %s", w.Code, w.Body)
	}

	w = a.do(t, "PUT", path+"/roles/operator", a.admin, "")
	if got := decodeJSON[map[string][]string](t, w); w.Code != 200 || !slices.Equal(got["roles"], []string{"operator", "viewer"}) {
		t.Fatalf("assign: %d %s", w.Code, w.Body)
	}
	w = a.do(t, "GET", path+"/permissions", a.admin, "")
	want := []string{"audit:read", "keys:read", "keys:write", "roles:read", "sessions:write", "users:read"}
	if got := decodeJSON[map[string][]string](t, w); w.Code != 200 || !slices.Equal(got["permissions"], want) {
		t.Fatalf("permissions: %d %s; want %v", w.Code, w.Body, want)
	}
	if w := a.do(t, "DELETE", path+"/roles/operator", a.admin, ""); w.Code != 204 || w.Body.Len() != 0 {
		t.Fatalf("unassign: %d %s; want 204", w.Code, w.Body)
	}
	if w := a.do(t, "PUT", path+"/roles/nope", a.admin, ""); w.Code != 404 {
		t.Fatalf("assign an unknown role: %d; want 404", w.Code)
	}
	if got := decodeJSON[map[string][]string](t, a.do(t, "GET", path+"/roles", a.admin, "")); !slices.Equal(got["roles"], []string{"viewer"}) {
		t.Fatalf("roles = %v; want [viewer]", got["roles"])
	}

	ses := a.sessionFixture(t, u.ID)
	w = a.do(t, "POST", path+"/disable", a.admin, "")
	if got := decodeJSON[api.User](t, w); w.Code != 200 || got.DisabledAt == nil {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	if s, _ := a.store.SessionByID(context.Background(), ses); s.RevokedAt == nil {
		t.Fatal("disable over the API left a session live")
	}
	w = a.do(t, "POST", path+"/enable", a.admin, "{}")
	if got := decodeJSON[api.User](t, w); w.Code != 200 || got.DisabledAt != nil {
		t.Fatalf("enable: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", path, a.admin, ""); w.Code != 204 {
		t.Fatalf("delete: %d %s; want 204", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", path, a.admin, ""); w.Code != 404 {
		t.Fatalf("delete twice: %d; want 404", w.Code)
	}
}

func TestAPI_UserListPages(t *testing.T) {
	a := setupAPI(t)
	for i := range 5 {
		a.do(t, "POST", "/v1/users", a.admin, createUserJSON(fmt.Sprintf("u%d", i)))
	}
	seen := map[string]bool{}
	path := "/v1/users?limit=2"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		w := a.do(t, "GET", path, a.admin, "")
		page := decodeJSON[api.UserPage](t, w)
		if w.Code != 200 || len(page.Users) > 2 {
			t.Fatalf("page: %d %s", w.Code, w.Body)
		}
		for _, u := range page.Users {
			if seen[u.ID] {
				t.Fatalf("user %s on two pages", u.ID)
			}
			seen[u.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		path = "/v1/users?limit=2&cursor=" + *page.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("pages held %d users; want 5", len(seen))
	}
}

func TestAPI_Register(t *testing.T) {
	a := setupAPI(t)
	body := `{"username":"eve","email":"eve@example.com","full_name":"Eve","password":"` + userPassword + `"}`
	w := a.do(t, "POST", "/v1/auth/register", "", body)
	if got := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || got.Description != "registration is closed" {
		t.Fatalf("register while closed: %d %s; want 403 registration is closed", w.Code, w.Body)
	}

	open := a.withOptions(t, issue.Options{AllowRegistration: true})
	post := func(body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		open.ServeHTTP(w, httptest.NewRequest("POST", "/v1/auth/register", strings.NewReader(body)))
		return w
	}
	if w := post(strings.Replace(body, `}`, `,"roles":["admin"]}`, 1)); w.Code != 400 || !strings.Contains(w.Body.String(), "roles: unknown field") {
		t.Fatalf("register asking for a role: %d %s; want 400 roles: unknown field", w.Code, w.Body)
	}
	if w := post(strings.Replace(body, userPassword, "short", 1)); w.Code != 400 || !strings.Contains(w.Body.String(), "password:") {
		t.Fatalf("register with a short password: %d %s; want 400", w.Code, w.Body)
	}
	w = post(body)
	u := decodeJSON[api.User](t, w)
	if w.Code != 201 || len(u.Roles) != 0 || strings.Contains(w.Body.String(), userPassword) {
		t.Fatalf("register: %d %s; want 201, a user without roles", w.Code, w.Body)
	}
	if w := post(body); w.Code != 409 || !strings.Contains(w.Body.String(), "username already taken") {
		t.Fatalf("register twice: %d %s; want 409", w.Code, w.Body)
	}
	rows := a.audit(t)
	if i := slices.IndexFunc(rows, func(r issue.AuditEntry) bool { return r.Action == "user.register" }); i < 0 ||
		rows[i].Actor != "anonymous" || rows[i].ResourceID != u.ID {
		t.Fatalf("audit rows %+v; want a user.register by anonymous", rows)
	}
}

func TestAPI_EveryMutationIsAuditedWithoutThePassword(t *testing.T) {
	a := setupAPI(t)
	const secondPassword = "another secret passphrase"
	u := decodeJSON[api.User](t, a.do(t, "POST", "/v1/users", a.admin, createUserJSON("ada", "viewer")))
	p := "/v1/users/" + u.ID
	steps := []struct{ method, path, body, action string }{
		{"PATCH", p, `{"password":"` + secondPassword + `","email":"ada2@example.com"}`, "user.update"},
		{"POST", p + "/disable", "", "user.disable"},
		{"POST", p + "/enable", "", "user.enable"},
		{"PUT", p + "/roles/operator", "", "user.role_assign"},
		{"DELETE", p + "/roles/operator", "", "user.role_unassign"},
		{"POST", "/v1/permissions", `{"name":"doors:open","description":"open the doors"}`, "permission.create"},
		{"POST", "/v1/roles", `{"name":"guard"}`, "role.create"},
		{"PUT", "/v1/roles/guard/permissions/doors:open", "", "role.grant"},
		{"DELETE", "/v1/roles/guard/permissions/doors:open", "", "role.revoke"},
		{"DELETE", "/v1/roles/guard", "", "role.delete"},
		{"DELETE", "/v1/permissions/doors:open", "", "permission.delete"},
		{"DELETE", p, "", "user.delete"},
	}
	for _, s := range steps {
		if w := a.do(t, s.method, s.path, a.admin, s.body); w.Code >= 300 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, w.Code, w.Body)
		}
	}
	open := a.withOptions(t, issue.Options{AllowRegistration: true})
	w := httptest.NewRecorder()
	open.ServeHTTP(w, httptest.NewRequest("POST", "/v1/auth/register", strings.NewReader(
		`{"username":"eve","email":"eve@example.com","password":"`+secondPassword+`"}`)))
	if w.Code != 201 {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}

	rows := a.audit(t)
	got := map[string]issue.AuditEntry{}
	for _, r := range rows {
		got[string(r.Action)] = r
		text := fmt.Sprintf("%+v %s", r, r.Metadata)
		for _, secret := range []string{userPassword, secondPassword, "argon2"} {
			if strings.Contains(text, secret) {
				t.Fatalf("audit row %s holds %q: %s", r.Action, secret, text)
			}
		}
	}
	for _, action := range append([]string{"user.create", "user.register"}, actionsOf(steps)...) {
		r, ok := got[action]
		if !ok {
			t.Errorf("no %s audit row", action)
			continue
		}
		if action != "user.register" && !strings.HasPrefix(r.Actor, "key:") {
			t.Errorf("%s row's actor = %q; want the admin key", action, r.Actor)
		}
	}
	var m struct{ Changed []string }
	if err := json.Unmarshal(got["user.update"].Metadata, &m); err != nil || !slices.Equal(m.Changed, []string{"email", "password"}) {
		t.Errorf("user.update metadata %s; want the changed fields' names only", got["user.update"].Metadata)
	}
}

func actionsOf(steps []struct{ method, path, body, action string }) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.action)
	}
	return out
}
