package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var builtinPermissions = []string{"audit:read", "keys:read", "keys:write", "roles:read", "roles:write",
	"sessions:write", "signing_keys:write", "users:read", "users:write"}

func TestDB_RoleListAdminHasEveryPermission(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	// Added after the admin role: admin holds it with no grant.
	if err := store.PermissionInsert(ctx, issue.Permission{Name: "events:read", Description: "read events"}); err != nil {
		t.Fatal(err)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(builtinPermissions), "events:read")))
	roles, err := store.RoleList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"admin":    all,
		"operator": {"audit:read", "keys:read", "keys:write", "roles:read", "sessions:write", "users:read"},
		"viewer":   {"keys:read", "roles:read", "users:read"},
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
		if !slices.Equal(r.Permissions, want[r.Name]) || !r.Builtin {
			t.Errorf("role %s = %v (builtin %v); want %v (builtin)", r.Name, r.Permissions, r.Builtin, want[r.Name])
		}
	}
	if !slices.Equal(names, []string{"admin", "operator", "viewer"}) {
		t.Errorf("roles = %v; want admin, operator, viewer", names)
	}
	admin, err := store.RoleByName(ctx, issue.RoleAdmin)
	if err != nil || !slices.Equal(admin.Permissions, all) {
		t.Errorf("RoleByName(admin) = %v, %v; want %v", admin.Permissions, err, all)
	}
	perms, _ := store.PermissionList(ctx)
	if len(perms) != len(all) || perms[0].Name != all[0] || !perms[0].Builtin {
		t.Errorf("PermissionList = %+v; want %v", perms, all)
	}
	if _, err := store.RoleByName(ctx, "nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("RoleByName(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestDB_UserPermissions(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	for _, p := range []string{"events:read", "events:write"} {
		if err := store.PermissionInsert(ctx, issue.Permission{Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RoleInsert(ctx, issue.Role{Name: "events", Description: "events"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"events:read", "events:write", "keys:read"} {
		if err := store.RoleGrant(ctx, "events", p); err != nil {
			t.Fatal(err)
		}
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(builtinPermissions), "events:read", "events:write")))
	for _, tc := range []struct {
		name  string
		roles []string
		want  []string
	}{
		{"NoRole", nil, []string{}},
		{"Viewer", []string{"viewer"}, []string{"keys:read", "roles:read", "users:read"}},
		{"UnionWithoutDuplicates", []string{"viewer", "events"},
			[]string{"events:read", "events:write", "keys:read", "roles:read", "users:read"}},
		{"Admin", []string{"admin"}, all},
		{"AdminAndMore", []string{"viewer", "admin"}, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser(t, store, strings.ToLower(tc.name), t0)
			for _, r := range tc.roles {
				if err := store.UserRoleAssign(ctx, u.ID, r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := store.UserPermissions(ctx, u.ID)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("UserPermissions = %v, %v; want %v", got, err, tc.want)
			}
			roles, _ := store.UserRoles(ctx, u.ID)
			if want := slices.Sorted(slices.Values(tc.roles)); !slices.Equal(roles, want) {
				t.Fatalf("UserRoles = %v; want %v", roles, want)
			}
		})
	}
	t.Run("RoleDeleteTakesItsGrants", func(t *testing.T) {
		u, _ := store.UserByLogin(ctx, "unionwithoutduplicates")
		if err := store.RoleDelete(ctx, "events"); err != nil {
			t.Fatal(err)
		}
		got, _ := store.UserPermissions(ctx, u.ID)
		if want := []string{"keys:read", "roles:read", "users:read"}; !slices.Equal(got, want) {
			t.Fatalf("UserPermissions after RoleDelete = %v; want %v", got, want)
		}
	})
}

func TestDB_RoleUnknownNames(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	for _, tc := range []struct {
		name    string
		call    func() error
		naming  string
		wantErr error
	}{
		{"GrantUnknownRole", func() error { return store.RoleGrant(ctx, "nope", "keys:read") }, `role "nope"`, verify.ErrNotFound},
		{"GrantUnknownPermission", func() error { return store.RoleGrant(ctx, "viewer", "nope:x") }, `permission "nope:x"`, verify.ErrNotFound},
		{"AssignUnknownUser", func() error { return store.UserRoleAssign(ctx, "usr_nope", "viewer") }, `user "usr_nope"`, verify.ErrNotFound},
		{"AssignUnknownRole", func() error { return store.UserRoleAssign(ctx, u.ID, "nope") }, `role "nope"`, verify.ErrNotFound},
		{"DeleteUnknownRole", func() error { return store.RoleDelete(ctx, "nope") }, "", verify.ErrNotFound},
		{"DeleteUnknownPermission", func() error { return store.PermissionDelete(ctx, "nope:x") }, "", verify.ErrNotFound},
		{"InsertTakenRole", func() error { return store.RoleInsert(ctx, issue.Role{Name: "viewer"}) }, "roles_pkey", issue.ErrConflict},
		{"InsertTakenPermission", func() error { return store.PermissionInsert(ctx, issue.Permission{Name: "keys:read"}) }, "permissions_pkey", issue.ErrConflict},
		{"InsertBadRoleName", func() error { return store.RoleInsert(ctx, issue.Role{Name: "Bad Name"}) }, "roles_name_check", issue.ErrInvalid},
		{"InsertBadPermissionName", func() error { return store.PermissionInsert(ctx, issue.Permission{Name: "nocolon"}) }, "permissions_name_check", issue.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("err = %v; want %v naming %s", err, tc.wantErr, tc.naming)
			}
		})
	}
}

func TestDB_RoleGrantsAreIdempotent(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Grant", func() error { return store.RoleGrant(ctx, "viewer", "audit:read") }},
		{"Assign", func() error { return store.UserRoleAssign(ctx, u.ID, "viewer") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 2 {
				if err := tc.call(); err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
			}
		})
	}
	got, _ := store.UserPermissions(ctx, u.ID)
	if want := []string{"audit:read", "keys:read", "roles:read", "users:read"}; !slices.Equal(got, want) {
		t.Fatalf("UserPermissions = %v; want %v", got, want)
	}
	for i := range 2 {
		if err := store.RoleRevoke(ctx, "viewer", "audit:read"); err != nil {
			t.Fatalf("RoleRevoke %d: %v", i+1, err)
		}
		if err := store.UserRoleUnassign(ctx, u.ID, "viewer"); err != nil {
			t.Fatalf("UserRoleUnassign %d: %v", i+1, err)
		}
	}
	if got, _ := store.UserPermissions(ctx, u.ID); len(got) != 0 {
		t.Fatalf("UserPermissions after unassign = %v; want none", got)
	}
	if err := store.PermissionDelete(ctx, "keys:read"); err != nil {
		t.Fatal(err)
	}
	viewer, _ := store.RoleByName(ctx, "viewer")
	if want := []string{"roles:read", "users:read"}; !slices.Equal(viewer.Permissions, want) {
		t.Fatalf("viewer after PermissionDelete = %v; want %v", viewer.Permissions, want)
	}
}
