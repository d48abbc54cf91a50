package issue_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

func TestAPI_RoleRoutesNeedTheirPermission(t *testing.T) {
	a := setupAPI(t)
	checkRoutePermissions(t, a, []route{
		{"GET", "/v1/roles", issue.PermRolesRead},
		{"POST", "/v1/roles", issue.PermRolesWrite},
		{"DELETE", "/v1/roles/nope", issue.PermRolesWrite},
		{"PUT", "/v1/roles/nope/permissions/doors:open", issue.PermRolesWrite},
		{"DELETE", "/v1/roles/nope/permissions/doors:open", issue.PermRolesWrite},
		{"GET", "/v1/permissions", issue.PermRolesRead},
		{"POST", "/v1/permissions", issue.PermRolesWrite},
		{"DELETE", "/v1/permissions/doors:open", issue.PermRolesWrite},
	})
}

func TestAPI_RoleBadInputIsA400NamingTheProblem(t *testing.T) {
	a := setupAPI(t)
	tests := []struct {
		name, method, path, body, want string
	}{
		{"Garbage", "POST", "/v1/roles", `{`, "ends too early"},
		{"EmptyBody", "POST", "/v1/roles", ``, "body is empty"},
		{"UnknownField", "POST", "/v1/roles", `{"name":"guard","builtin":true}`, "builtin: unknown field"},
		{"BadRoleName", "POST", "/v1/roles", `{"name":"Guard"}`, "name: must be 1 to 64"},
		{"LongDescription", "POST", "/v1/roles", `{"name":"guard","description":"` + strings.Repeat("a", 501) + `"}`, "description: must be at most 500"},
		{"PermissionUnknownField", "POST", "/v1/permissions", `{"name":"doors:open","builtin":true}`, "builtin: unknown field"},
		{"BadPermissionName", "POST", "/v1/permissions", `{"name":"doors"}`,
			`name: "doors" is not a permission: use resource:action, at most 100 letters, digits and . _ - : /`},
		{"LongPermissionName", "POST", "/v1/permissions", `{"name":"a:` + strings.Repeat("b", 99) + `"}`,
			`name: "a:` + strings.Repeat("b", 62) + `" is not a permission: use resource:action, at most 100`},
		{"EmptyAction", "POST", "/v1/permissions", `{"name":"doors:"}`, `name: "doors:" is not a permission`},
		{"EmptyResource", "POST", "/v1/permissions", `{"name":":open"}`, `name: ":open" is not a permission`},
		{"StarInPermission", "POST", "/v1/permissions", `{"name":"events:*"}`, `name: "events:*" is not a permission`},
		{"SpaceInPermission", "POST", "/v1/permissions", `{"name":"doors:open now"}`, `name: "doors:open now" is not a permission`},
		{"ReservedNamespace", "POST", "/v1/permissions", `{"name":"authgate:anything"}`,
			`name: "authgate:anything" is in authgate's own namespace authgate:`},
		{"ScopeAdminAsPermission", "POST", "/v1/permissions", `{"name":"authgate:admin"}`,
			`name: "authgate:admin" is in authgate's own namespace authgate:`},
		{"GrantWithBody", "PUT", "/v1/roles/viewer/permissions/keys:write", `{"x":1}`, "x: unknown field"},
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
	roles := must(a.svc.ListRoles(context.Background()))(t)
	perms := must(a.svc.ListPermissions(context.Background()))(t)
	if len(roles) != 3 || len(perms) != 9 {
		t.Fatalf("%d roles and %d permissions after bad requests; want the 3 and 9 built in", len(roles), len(perms))
	}
	if v := roles[slices.IndexFunc(roles, func(r issue.Role) bool { return r.Name == "viewer" })]; slices.Contains(v.Permissions, "keys:write") {
		t.Fatal("a refused grant changed the viewer role")
	}
}

func TestAPI_RoleLifecycle(t *testing.T) {
	a := setupAPI(t)
	w := a.do(t, "POST", "/v1/permissions", a.admin, `{"name":"doors:open","description":"open the doors"}`)
	if got := decodeJSON[api.Permission](t, w); w.Code != 201 || got.Name != "doors:open" || got.Builtin {
		t.Fatalf("create permission: %d %s", w.Code, w.Body)
	}
	w = a.do(t, "POST", "/v1/roles", a.admin, `{"name":"guard","description":"watches the doors"}`)
	if got := decodeJSON[api.Role](t, w); w.Code != 201 || got.Name != "guard" || got.Permissions == nil {
		t.Fatalf("create role: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "POST", "/v1/roles", a.admin, `{"name":"guard"}`); w.Code != 409 {
		t.Fatalf("create the role twice: %d; want 409", w.Code)
	}
	w = a.do(t, "PUT", "/v1/roles/guard/permissions/doors:open", a.admin, "")
	if got := decodeJSON[api.Role](t, w); w.Code != 200 || !slices.Equal(got.Permissions, []string{"doors:open"}) {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	// A percent-encoded colon names the same permission.
	if w := a.do(t, "PUT", "/v1/roles/guard/permissions/doors%3Aopen", a.admin, ""); w.Code != 200 {
		t.Fatalf("grant with an encoded colon: %d %s", w.Code, w.Body)
	}
	for _, p := range []string{"/v1/roles/nope/permissions/doors:open", "/v1/roles/guard/permissions/doors:close"} {
		if w := a.do(t, "PUT", p, a.admin, ""); w.Code != 404 {
			t.Fatalf("PUT %s: %d; want 404", p, w.Code)
		}
	}
	w = a.do(t, "PUT", "/v1/roles/admin/permissions/doors:open", a.admin, "")
	if got := decodeJSON[api.Role](t, w); w.Code != 200 || !slices.Contains(got.Permissions, "doors:open") {
		t.Fatalf("grant to admin: %d %s; want 200, a no-op", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", "/v1/roles/admin/permissions/doors:open", a.admin, ""); w.Code != 409 {
		t.Fatalf("revoke from admin: %d %s; want 409", w.Code, w.Body)
	}

	w = a.do(t, "GET", "/v1/roles", a.admin, "")
	roles := decodeJSON[api.RoleList](t, w).Roles
	byName := map[string]api.Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	if w.Code != 200 || !slices.Equal(byName["guard"].Permissions, []string{"doors:open"}) ||
		!slices.Contains(byName[issue.RoleAdmin].Permissions, "doors:open") {
		t.Fatalf("list roles: %d %s; want guard and admin holding doors:open", w.Code, w.Body)
	}
	w = a.do(t, "GET", "/v1/permissions", a.admin, "")
	if perms := decodeJSON[api.PermissionList](t, w).Permissions; w.Code != 200 || len(perms) != 10 {
		t.Fatalf("list permissions: %d %s; want 10", w.Code, w.Body)
	}

	for _, p := range []string{"/v1/roles/viewer", "/v1/permissions/keys:read"} {
		w := a.do(t, "DELETE", p, a.admin, "")
		if body := decodeJSON[api.ErrorBody](t, w); w.Code != 409 || !strings.Contains(body.Description, "built in") {
			t.Fatalf("DELETE %s: %d %+v; want 409 built in", p, w.Code, body)
		}
	}
	for _, p := range []string{"/v1/roles/guard/permissions/doors:open", "/v1/roles/guard", "/v1/permissions/doors:open"} {
		if w := a.do(t, "DELETE", p, a.admin, ""); w.Code != 204 {
			t.Fatalf("DELETE %s: %d %s; want 204", p, w.Code, w.Body)
		}
	}
	for _, p := range []string{"/v1/roles/guard", "/v1/permissions/doors:open"} {
		if w := a.do(t, "DELETE", p, a.admin, ""); w.Code != 404 {
			t.Fatalf("DELETE %s twice: %d; want 404", p, w.Code)
		}
	}
}

// Permission names use the scope alphabet: upper case and slashes are allowed,
// and such a permission goes through the routes that name it in the path.
func TestAPI_PermissionNamesAreScopes(t *testing.T) {
	a := setupAPI(t)
	for _, name := range []string{"Events:Read", "cameras/front:stream"} {
		w := a.do(t, "POST", "/v1/permissions", a.admin, `{"name":"`+name+`"}`)
		if got := decodeJSON[api.Permission](t, w); w.Code != 201 || got.Name != name {
			t.Fatalf("create permission %s: %d %s; want 201", name, w.Code, w.Body)
		}
	}
	w := a.do(t, "POST", "/v1/roles", a.admin, `{"name":"guard","permissions":["cameras/front:stream","Events:Read"]}`)
	if got := decodeJSON[api.Role](t, w); w.Code != 201 || !slices.Equal(got.Permissions, []string{"Events:Read", "cameras/front:stream"}) {
		t.Fatalf("create role holding both: %d %s; want 201 with both", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", "/v1/roles/guard/permissions/cameras%2Ffront:stream", a.admin, ""); w.Code != 204 {
		t.Fatalf("revoke cameras/front:stream: %d %s; want 204", w.Code, w.Body)
	}
	w = a.do(t, "PUT", "/v1/roles/guard/permissions/cameras%2Ffront:stream", a.admin, "")
	if got := decodeJSON[api.Role](t, w); w.Code != 200 || !slices.Equal(got.Permissions, []string{"Events:Read", "cameras/front:stream"}) {
		t.Fatalf("grant cameras/front:stream: %d %s; want 200 with both", w.Code, w.Body)
	}
	for _, p := range []string{"/v1/permissions/cameras%2Ffront:stream", "/v1/permissions/Events:Read"} {
		if w := a.do(t, "DELETE", p, a.admin, ""); w.Code != 204 {
			t.Fatalf("DELETE %s: %d %s; want 204", p, w.Code, w.Body)
		}
	}
	if perms, _ := a.svc.ListPermissions(context.Background()); len(perms) != 9 {
		t.Fatalf("%d permissions after deleting both; want the 9 built in", len(perms))
	}
}
