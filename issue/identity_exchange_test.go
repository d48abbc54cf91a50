package issue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
)

// TestService_ExchangeExternal: the same who-are-they rules and role sync as
// SignInExternal, then an API session as Login makes one.
func TestService_ExchangeExternal(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	pol := issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: "family", Roles: map[string]string{"admins": "operator"}}
	id := person("Gus")
	id.Groups = []string{"admins"}
	tok, err := a.svc.ExchangeExternal(ctx, id, pol, "Gus's phone", a.by)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || !strings.HasPrefix(tok.RefreshToken, "agr_") || tok.TokenType != "bearer" || tok.ExpiresIn <= 0 {
		t.Fatalf("tokens %+v; want an access and a refresh token", tok)
	}
	rows := a.auditRows(t, "user.login")
	if len(rows) != 1 || rows[0]["kind"] != string(issue.SessionAPI) || rows[0]["provider"] != "pocket" {
		t.Fatalf("user.login rows %v; want one, kind api, provider pocket", rows)
	}
	userID := strings.TrimPrefix(rows[0]["_actor"].(string), "user:")
	s := a.session(t, rows[0]["session_id"].(string))
	if s.Kind != issue.SessionAPI || s.UserID != userID || s.DeviceName != "Gus's phone" {
		t.Fatalf("session %+v; want an API session named Gus's phone", s)
	}
	if roles := must(a.svc.UserRoles(ctx, userID))(t); !slices.Equal(roles, []string{"family", "operator"}) {
		t.Fatalf("roles %v; want the default role and the mapped one", roles)
	}
	if ids := a.identities(t, userID); len(ids) != 1 || ids[0].Subject != "Gus" {
		t.Fatalf("identities %+v; want the one exchanged", ids)
	}
	// The refresh token works as Login's does.
	if _, err := a.svc.Refresh(ctx, tok.RefreshToken, a.by); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// Next exchange: the group is gone, so is the mapped role.
	id.Groups = nil
	if _, err := a.svc.ExchangeExternal(ctx, id, pol, "", a.by); err != nil {
		t.Fatal(err)
	}
	if roles := must(a.svc.UserRoles(ctx, userID))(t); !slices.Equal(roles, []string{"family"}) {
		t.Fatalf("roles %v; want the mapped role taken away", roles)
	}
}

// TestService_ExchangeExternal_Refused: a refusal creates nothing and is
// audited as SignInExternal's are.
func TestService_ExchangeExternal_Refused(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	before := len(a.audit(t))
	_, err := a.svc.ExchangeExternal(ctx, person("Ivy"), refuseNew, "", a.by)
	if !errors.Is(err, issue.ErrSignInRefused) {
		t.Fatalf("got %v; want ErrSignInRefused", err)
	}
	if n := must(a.store.UserCount(ctx))(t); n != 0 {
		t.Fatalf("%d users; want none", n)
	}
	rows := a.audit(t)[before:]
	if len(rows) != 1 || rows[0].Action != issue.ActionLoginFailed {
		t.Fatalf("new audit rows %+v; want one user.login_failed", rows)
	}
	if got := a.auditRows(t, "user.login_failed")[0]; got["reason"] != "not_linked" || got["provider"] != "pocket" {
		t.Fatalf("row %v; want reason not_linked, provider pocket", got)
	}
	var fe *issue.FieldError
	if _, err := a.svc.ExchangeExternal(ctx, person("Ivy"), createFamily, strings.Repeat("x", 101), a.by); !errors.As(err, &fe) ||
		fe.Field != "device_name" {
		t.Fatalf("long device name: %v; want a *FieldError for device_name", err)
	}
}
