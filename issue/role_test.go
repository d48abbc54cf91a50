package issue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestService_RolesAndGrants(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "ada")

	if _, err := b.svc.CreatePermission(ctx, "cameras:stream", "watch the cameras", userActor); err != nil {
		t.Fatal(err)
	}
	r, err := b.svc.CreateRole(ctx, "guard", "watches the doors", nil, userActor)
	if err != nil || r.Name != "guard" || r.Builtin || len(r.Permissions) != 0 {
		t.Fatalf("CreateRole = %+v, %v", r, err)
	}
	if r, err = b.svc.GrantPermission(ctx, "guard", "cameras:stream", userActor); err != nil || !slices.Equal(r.Permissions, []string{"cameras:stream"}) {
		t.Fatalf("GrantPermission = %+v, %v; want guard holding cameras:stream", r, err)
	}
	if _, err := b.svc.GrantPermission(ctx, "guard", "cameras:stream", userActor); err != nil {
		t.Fatalf("granting twice: %v; want no error", err)
	}
	roles, err := b.svc.AssignRole(ctx, u.ID, "guard", userActor)
	if err != nil || !slices.Equal(roles, []string{"guard"}) {
		t.Fatalf("AssignRole = %v, %v", roles, err)
	}
	roles, _ = b.svc.AssignRole(ctx, u.ID, "viewer", userActor)
	if want := []string{"guard", "viewer"}; !slices.Equal(roles, want) {
		t.Fatalf("roles = %v; want %v", roles, want)
	}
	perms, err := b.svc.UserPermissions(ctx, u.ID)
	if want := []string{"cameras:stream", "keys:read", "roles:read", "users:read"}; err != nil || !slices.Equal(perms, want) {
		t.Fatalf("UserPermissions = %v, %v; want %v", perms, err, want)
	}

	if err := b.svc.RevokePermission(ctx, "guard", "cameras:stream", userActor); err != nil {
		t.Fatal(err)
	}
	if roles, _ = b.svc.UnassignRole(ctx, u.ID, "viewer", userActor); !slices.Equal(roles, []string{"guard"}) {
		t.Fatalf("roles after unassign = %v; want [guard]", roles)
	}
	if roles, err = b.svc.UnassignRole(ctx, u.ID, "viewer", userActor); err != nil || !slices.Equal(roles, []string{"guard"}) {
		t.Fatalf("unassigning twice = %v, %v; want no error and no change", roles, err)
	}
	if perms, _ = b.svc.UserPermissions(ctx, u.ID); len(perms) != 0 {
		t.Fatalf("permissions after revoke and unassign = %v; want none", perms)
	}

	// Deleting a role takes it from its holders.
	if err := b.svc.DeleteRole(ctx, "guard", userActor); err != nil {
		t.Fatal(err)
	}
	if roles, _ := b.svc.UserRoles(ctx, u.ID); len(roles) != 0 {
		t.Fatalf("roles after the role was deleted = %v; want none", roles)
	}
	if err := b.svc.DeletePermission(ctx, "cameras:stream", userActor); err != nil {
		t.Fatal(err)
	}

	var actions []string
	for _, r := range b.audit(t) {
		actions = append(actions, string(r.Action))
	}
	want := []string{"user.create", "permission.create", "role.create", "role.grant", "role.grant", "user.role_assign",
		"user.role_assign", "role.revoke", "user.role_unassign", "user.role_unassign", "role.delete", "permission.delete"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit actions\n%v\nwant\n%v", actions, want)
	}
}

func TestService_AdminHoldsEveryPermission(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "root", issue.RoleAdmin)
	if _, err := b.svc.CreatePermission(ctx, "doors:open", "", userActor); err != nil {
		t.Fatal(err)
	}
	perms := must(b.svc.UserPermissions(ctx, u.ID))(t)
	if !slices.Contains(perms, "doors:open") || !slices.Contains(perms, issue.PermUsersWrite) {
		t.Fatalf("admin's permissions %v lack one created later (doors:open)", perms)
	}
	roles := must(b.svc.ListRoles(ctx))(t)
	i := slices.IndexFunc(roles, func(r issue.Role) bool { return r.Name == issue.RoleAdmin })
	if i < 0 || !roles[i].Builtin || !slices.Contains(roles[i].Permissions, "doors:open") {
		t.Fatalf("ListRoles admin = %+v; want it builtin and holding doors:open", roles)
	}
	before := len(b.audit(t))
	if r, err := b.svc.GrantPermission(ctx, issue.RoleAdmin, "doors:open", userActor); err != nil || !slices.Contains(r.Permissions, "doors:open") {
		t.Fatalf("granting to admin = %+v, %v; want success without a change", r, err)
	}
	if after := len(b.audit(t)); after != before {
		t.Fatalf("granting to admin wrote %d audit rows; want none (nothing changed)", after-before)
	}
	if err := b.svc.RevokePermission(ctx, issue.RoleAdmin, "doors:open", userActor); !errors.Is(err, issue.ErrConflict) {
		t.Fatalf("revoking from admin: err = %v; want ErrConflict", err)
	}
	// The last admin may lose the role: admin API keys still reach the API.
	if roles, err := b.svc.UnassignRole(ctx, u.ID, issue.RoleAdmin, userActor); err != nil || len(roles) != 0 {
		t.Fatalf("unassigning the last admin = %v, %v; want it allowed", roles, err)
	}
}

func TestService_RoleRefusals(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "ada")
	must(b.svc.CreateRole(ctx, "guard", "", nil, userActor))(t)
	must(b.svc.CreatePermission(ctx, "doors:open", "", userActor))(t)
	before := len(b.audit(t))
	tests := []struct {
		name string
		do   func() error
		want error
		msg  string // in the error, when set
	}{
		{"RoleNameUpper", func() error { _, err := b.svc.CreateRole(ctx, "Guard", "", nil, userActor); return err }, issue.ErrInvalid, "name:"},
		{"RoleNameSpace", func() error { _, err := b.svc.CreateRole(ctx, "a b", "", nil, userActor); return err }, issue.ErrInvalid, "name:"},
		{"RoleNameEmpty", func() error { _, err := b.svc.CreateRole(ctx, "", "", nil, userActor); return err }, issue.ErrInvalid, "name:"},
		{"RoleNameLong", func() error { _, err := b.svc.CreateRole(ctx, strings.Repeat("a", 65), "", nil, userActor); return err }, issue.ErrInvalid, "name:"},
		{"RoleDescriptionLong", func() error {
			_, err := b.svc.CreateRole(ctx, "x", strings.Repeat("a", 501), nil, userActor)
			return err
		}, issue.ErrInvalid, "description:"},
		{"RoleDuplicate", func() error { _, err := b.svc.CreateRole(ctx, "guard", "", nil, userActor); return err }, issue.ErrConflict, `role "guard" already exists`},
		{"RoleBuiltinDuplicate", func() error { _, err := b.svc.CreateRole(ctx, "admin", "", nil, userActor); return err }, issue.ErrConflict, "already exists"},
		{"DeleteBuiltinRole", func() error { return b.svc.DeleteRole(ctx, "viewer", userActor) }, issue.ErrConflict, "built in"},
		{"DeleteAdminRole", func() error { return b.svc.DeleteRole(ctx, issue.RoleAdmin, userActor) }, issue.ErrConflict, "built in"},
		{"DeleteUnknownRole", func() error { return b.svc.DeleteRole(ctx, "nope", userActor) }, verify.ErrNotFound, ""},
		{"PermissionNoColon", func() error { _, err := b.svc.CreatePermission(ctx, "doors", "", userActor); return err }, issue.ErrInvalid, "name:"},
		{"PermissionEmptyAction", func() error { _, err := b.svc.CreatePermission(ctx, "doors:", "", userActor); return err }, issue.ErrInvalid, "name:"},
		{"PermissionEmptyResource", func() error { _, err := b.svc.CreatePermission(ctx, ":open", "", userActor); return err }, issue.ErrInvalid, "name:"},
		{"PermissionSpace", func() error { _, err := b.svc.CreatePermission(ctx, "doors:open now", "", userActor); return err }, issue.ErrInvalid, "name:"},
		{"PermissionStarResource", func() error { _, err := b.svc.CreatePermission(ctx, "*:open", "", userActor); return err }, issue.ErrInvalid, "name:"},
		{"PermissionStarAction", func() error { _, err := b.svc.CreatePermission(ctx, "events:*", "", userActor); return err },
			issue.ErrInvalid, `name: "events:*" is not a permission: use resource:action`},
		{"PermissionReservedNamespace", func() error { _, err := b.svc.CreatePermission(ctx, "authgate:anything", "", userActor); return err },
			issue.ErrInvalid, `name: "authgate:anything" is in authgate's own namespace authgate:`},
		{"PermissionScopeAdmin", func() error { _, err := b.svc.CreatePermission(ctx, issue.ScopeAdmin, "", userActor); return err },
			issue.ErrInvalid, "authgate's own namespace"},
		{"PermissionLong", func() error {
			_, err := b.svc.CreatePermission(ctx, "a:"+strings.Repeat("b", 99), "", userActor)
			return err
		}, issue.ErrInvalid, "name:"},
		{"PermissionDuplicate", func() error { _, err := b.svc.CreatePermission(ctx, "doors:open", "", userActor); return err }, issue.ErrConflict, "already exists"},
		{"DeleteBuiltinPermission", func() error { return b.svc.DeletePermission(ctx, issue.PermKeysRead, userActor) }, issue.ErrConflict, "built in"},
		{"DeleteUnknownPermission", func() error { return b.svc.DeletePermission(ctx, "doors:close", userActor) }, verify.ErrNotFound, ""},
		{"GrantUnknownRole", func() error { _, err := b.svc.GrantPermission(ctx, "nope", "doors:open", userActor); return err }, verify.ErrNotFound, ""},
		{"GrantUnknownPermission", func() error { _, err := b.svc.GrantPermission(ctx, "guard", "doors:close", userActor); return err }, verify.ErrNotFound, ""},
		{"RevokeUnknownRole", func() error { return b.svc.RevokePermission(ctx, "nope", "doors:open", userActor) }, verify.ErrNotFound, ""},
		{"RevokeUnknownPermission", func() error { return b.svc.RevokePermission(ctx, "guard", "doors:close", userActor) }, verify.ErrNotFound, ""},
		{"AssignUnknownRole", func() error { _, err := b.svc.AssignRole(ctx, u.ID, "nope", userActor); return err }, verify.ErrNotFound, ""},
		{"AssignToUnknownUser", func() error { _, err := b.svc.AssignRole(ctx, "usr_nope", "guard", userActor); return err }, verify.ErrNotFound, ""},
		{"UnassignUnknownRole", func() error { _, err := b.svc.UnassignRole(ctx, u.ID, "nope", userActor); return err }, verify.ErrNotFound, ""},
		{"PermissionsOfUnknownUser", func() error { _, err := b.svc.UserPermissions(ctx, "usr_nope"); return err }, verify.ErrNotFound, ""},
		{"RolesOfUnknownUser", func() error { _, err := b.svc.UserRoles(ctx, "usr_nope"); return err }, verify.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if !errors.Is(err, tt.want) || !strings.Contains(errString(err), tt.msg) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
	if after := len(b.audit(t)); after != before {
		t.Fatalf("refusals wrote %d audit rows; want none", after-before)
	}
	if ps, _ := b.svc.ListPermissions(ctx); len(ps) != 10 { // 9 built in + doors:open
		t.Fatalf("%d permissions after refusals; want 10", len(ps))
	}
}

// Permission names use the scope alphabet (verify.ValidScope): upper case and
// slashes are allowed, and a name that is a valid scope can be held and granted.
func TestService_PermissionNamesAreScopes(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	must(b.svc.CreateRole(ctx, "guard", "", nil, userActor))(t)
	tests := []struct {
		name, perm string
	}{
		{"Upper", "Events:Read"},
		{"SlashInResource", "cameras/front:stream"},
		{"ColonInAction", "doors:open:front"},
		{"Punctuation", "doors.v2:open-all_now"},
		{"Longest", "a:" + strings.Repeat("b", issue.MaxPermissionLen-2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !verify.ValidScope(tt.perm) {
				t.Fatalf("%q is not a valid scope; the case is wrong", tt.perm)
			}
			p, err := b.svc.CreatePermission(ctx, tt.perm, "", userActor)
			if err != nil || p.Name != tt.perm {
				t.Fatalf("CreatePermission(%q) = %+v, %v; want it created", tt.perm, p, err)
			}
			r, err := b.svc.GrantPermission(ctx, "guard", tt.perm, userActor)
			if err != nil || !slices.Contains(r.Permissions, tt.perm) {
				t.Fatalf("GrantPermission(guard, %q) = %+v, %v; want guard holding it", tt.perm, r, err)
			}
		})
	}
	// Case matters, as it does in a scope: events:read is another permission.
	if _, err := b.svc.CreatePermission(ctx, "events:read", "", userActor); err != nil {
		t.Fatalf("events:read beside Events:Read: %v; want a permission of its own", err)
	}
	if ps, _ := b.svc.ListPermissions(ctx); len(ps) != 9+len(tests)+1 {
		t.Fatalf("%d permissions; want %d", len(ps), 9+len(tests)+1)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
