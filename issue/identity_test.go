package issue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

const pocketIssuer = "https://id.home.example"

// person is who the provider vouches for in these tests, unless a test says otherwise.
func person(sub string) issue.ExternalIdentity {
	return issue.ExternalIdentity{Provider: "pocket", Issuer: pocketIssuer, Subject: sub, Email: sub + "@example.com",
		EmailVerified: true, Username: sub, Name: "Person " + sub}
}

var (
	createFamily = issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: "family"}
	refuseNew    = issue.ProviderPolicy{NewUsers: issue.NewUsersRefuse}
)

// extWorld is the API bundle with the family role.
func extWorld(t *testing.T, opts issue.Options) *apiBundle {
	t.Helper()
	a := setupAuth(t, opts)
	if _, err := a.svc.CreateRole(context.Background(), "family", "", nil, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *apiBundle) signInExternal(t *testing.T, id issue.ExternalIdentity, p issue.ProviderPolicy) (issue.BrowserSession, error) {
	t.Helper()
	return a.svc.SignInExternal(context.Background(), "home.example", id, p, issue.BrowserSignIn{DeviceName: "Firefox"}, a.by)
}

func (a *apiBundle) mustSignInExternal(t *testing.T, id issue.ExternalIdentity, p issue.ProviderPolicy) issue.BrowserSession {
	t.Helper()
	bs, err := a.signInExternal(t, id, p)
	if err != nil {
		t.Fatalf("sign in %s: %v", id.Subject, err)
	}
	return bs
}

func (a *apiBundle) identities(t *testing.T, userID string) []issue.LinkedIdentity {
	t.Helper()
	return must(a.svc.Identities(context.Background(), userID))(t)
}

func TestService_CheckProviderPolicy(t *testing.T) {
	a := extWorld(t, issue.Options{})
	many := map[string]string{}
	for i := range issue.MaxUserRoles + 1 {
		name := "r" + string(rune('a'+i))
		if _, err := a.svc.CreateRole(context.Background(), name, "", nil, issue.CLI()); err != nil {
			t.Fatal(err)
		}
		many[name] = name
	}
	for _, tt := range []struct {
		name string
		p    issue.ProviderPolicy
		ok   bool
	}{
		{"ZeroRefuses", issue.ProviderPolicy{}, true},
		{"CreateWithDefault", createFamily, true},
		{"Mapping", issue.ProviderPolicy{Roles: map[string]string{"family": "family", "admins": issue.RoleAdmin}}, true},
		{"UnknownNewUsers", issue.ProviderPolicy{NewUsers: "sometimes"}, false},
		{"DefaultRoleWithoutCreate", issue.ProviderPolicy{DefaultRole: "family"}, false},
		{"DefaultRoleMissing", issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: "ghost"}, false},
		{"MappedRoleMissing", issue.ProviderPolicy{Roles: map[string]string{"g": "ghost"}}, false},
		{"EmptyGroup", issue.ProviderPolicy{Roles: map[string]string{"": "family"}}, false},
		{"TooManyRoles", issue.ProviderPolicy{Roles: many}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := a.svc.CheckProviderPolicy(context.Background(), tt.p)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, issue.ErrProviderPolicy) {
				t.Fatalf("got %v; want ok %v (else ErrProviderPolicy)", err, tt.ok)
			}
		})
	}
}

func TestService_Unlink(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	nia := a.mustSignInExternal(t, person("nia"), createFamily).UserID
	root := a.mustSignInExternal(t, person("root"), issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: issue.RoleAdmin}).UserID
	self := issue.Actor{ID: "user:" + nia, Authority: must(a.svc.CallerAuthority(ctx, &verify.Principal{Kind: verify.KindJWT, Subject: nia}))(t)}

	var nf *issue.NotFoundError
	if err := a.svc.Unlink(ctx, nia, pocketIssuer, "root", self); !errors.As(err, &nf) {
		t.Fatalf("nia unlinking root's identity as hers: %v; want not found", err)
	}
	usersWrite := issue.Actor{ID: "key:x", Authority: issue.AuthorityOf([]string{issue.PermUsersWrite})}
	if err := a.svc.Unlink(ctx, root, pocketIssuer, "root", usersWrite); !errors.Is(err, issue.ErrPermission) {
		t.Fatalf("users:write unlinking an admin: %v; want ErrPermission (the authority rule)", err)
	}
	var fe *issue.FieldError
	if err := a.svc.Unlink(ctx, nia, "", "nia", self); !errors.As(err, &fe) || fe.Field != "issuer" {
		t.Fatalf("no issuer: %v; want a *FieldError", err)
	}
	if err := a.svc.Unlink(ctx, "usr_nobody", pocketIssuer, "nia", issue.CLI()); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("unknown user: %v; want ErrNotFound", err)
	}
	// nia came through the provider and has no password: an admin sets one,
	// else her only sign-in could not go (TestService_Unlink_LastSignIn).
	if _, err := a.svc.UpdateUser(ctx, nia, issue.UserUpdate{Password: ptr("password-of-nia")}, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Unlink(ctx, nia, pocketIssuer, "nia", self); err != nil {
		t.Fatal(err)
	}
	if ids := a.identities(t, nia); len(ids) != 0 {
		t.Fatalf("identities after unlink %+v; want none", ids)
	}
	if ids := a.identities(t, root); len(ids) != 1 {
		t.Fatalf("root's identities %+v; want untouched", ids)
	}
	rows := a.auditRows(t, "identity.unlink")
	if len(rows) != 1 || rows[0]["_resource_id"] != nia || rows[0]["subject"] != "nia" || rows[0]["provider"] != "pocket" {
		t.Fatalf("identity.unlink rows %v; want one for nia", rows)
	}
	// Signing in again is a new identity: refused here, since the email is nia's.
	if _, err := a.signInExternal(t, person("nia"), createFamily); !errors.Is(err, issue.ErrSignInRefused) {
		t.Fatalf("sign-in after unlink: %v; want refused (email_taken)", err)
	}
}
