package issue_test

import (
	"context"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

func TestAPI_Identities_Permissions(t *testing.T) {
	a := setupAPI(t)
	u := a.newUser(t, "pat")
	p := "/v1/users/" + u.ID + "/identities"
	checkRoutePermissions(t, a, []route{{"GET", p, issue.PermUsersRead}, {"DELETE", p, issue.PermUsersWrite}})
}

func TestAPI_Identities(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	quin := a.mustSignInExternal(t, person("quin"), createFamily).UserID
	// A second identity, linked by verified email.
	other := person("quin-work")
	other.Provider, other.Issuer, other.Email = "work", "https://login.work.example", "quin@example.com"
	a.mustSignInExternal(t, other, issue.ProviderPolicy{LinkByVerifiedEmail: true})
	if _, err := a.svc.UpdateUser(ctx, quin, issue.UserUpdate{Password: ptr("password-of-quin")}, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	root := a.newUser(t, "root", issue.RoleAdmin)
	if bs := a.mustSignInExternal(t, person("root"), issue.ProviderPolicy{LinkByVerifiedEmail: true}); bs.UserID != root.ID {
		t.Fatalf("root's identity linked to %s; want root", bs.UserID)
	}
	sol := a.newUser(t, "sol")
	tok := a.mustLogin(t, "quin").AccessToken

	w := a.do(t, "GET", "/v1/me/identities", tok, "")
	page := decodeJSON[api.IdentityPage](t, w)
	if w.Code != 200 || len(page.Identities) != 2 || page.Identities[0].Provider != "pocket" ||
		page.Identities[1].Issuer != "https://login.work.example" || page.Identities[0].LinkedAt.IsZero() {
		t.Fatalf("GET /v1/me/identities: %d %+v; want quin's two identities, oldest first", w.Code, page)
	}
	if w := a.do(t, "GET", "/v1/users/"+quin+"/identities", a.admin, ""); w.Code != 200 ||
		len(decodeJSON[api.IdentityPage](t, w).Identities) != 2 {
		t.Fatalf("GET /v1/users/:id/identities: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/users/"+sol.ID+"/identities", a.admin, ""); w.Code != 200 || w.Body.String() != `{"identities":[]}`+"\n" {
		t.Fatalf("no identities: %d %s; want an empty list", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/users/usr_nobody/identities", a.admin, ""); w.Code != 404 {
		t.Fatalf("unknown user: %d; want 404", w.Code)
	}

	for _, tt := range []struct {
		name, path, cred, body string
		status                 int
	}{
		{"NoBody", "/v1/me/identities", tok, `{}`, 400},
		{"UnknownField", "/v1/me/identities", tok, `{"issuer":"x","subject":"y","user_id":"z"}`, 400},
		{"NotMine", "/v1/me/identities", tok, `{"issuer":"` + pocketIssuer + `","subject":"root"}`, 404},
		{"NoSuchLink", "/v1/users/" + quin + "/identities", a.admin, `{"issuer":"` + pocketIssuer + `","subject":"nope"}`, 404},
		{"Mine", "/v1/me/identities", tok, `{"issuer":"` + pocketIssuer + `","subject":"quin"}`, 204},
		{"Again", "/v1/me/identities", tok, `{"issuer":"` + pocketIssuer + `","subject":"quin"}`, 404},
		{"ByAdmin", "/v1/users/" + quin + "/identities", a.admin, `{"issuer":"https://login.work.example","subject":"quin-work"}`, 204},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if w := a.do(t, "DELETE", tt.path, tt.cred, tt.body); w.Code != tt.status {
				t.Fatalf("got %d %s; want %d", w.Code, w.Body, tt.status)
			}
		})
	}
	if ids := a.identities(t, quin); len(ids) != 0 {
		t.Fatalf("identities left %+v; want none", ids)
	}
	rows := a.auditRows(t, "identity.unlink")
	if len(rows) != 2 || rows[0]["_actor"] != "user:"+quin || rows[1]["_actor"] == "user:"+quin {
		t.Fatalf("identity.unlink rows %v; want one by quin, one by the admin key", rows)
	}
}

func TestAPI_Identities_AuthorityRule(t *testing.T) {
	a := extWorld(t, issue.Options{})
	root := a.mustSignInExternal(t, person("root"), issue.ProviderPolicy{NewUsers: issue.NewUsersCreate, DefaultRole: issue.RoleAdmin}).UserID
	usersWrite := a.newKey(t, "uw", issue.PermUsersRead, issue.PermUsersWrite)
	w := a.do(t, "DELETE", "/v1/users/"+root+"/identities", usersWrite, `{"issuer":"`+pocketIssuer+`","subject":"root"}`)
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || body.Description == "" {
		t.Fatalf("users:write unlinking an admin's identity: %d %+v; want 403", w.Code, body)
	}
	if ids := a.identities(t, root); len(ids) != 1 {
		t.Fatalf("root's identities %+v; want untouched", ids)
	}
}
