package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/idp/idptest"
)

// TestMain_ExternalJWT: a machine presents a JWT of a configured external
// issuer (the real provider's client-credentials token, as GitHub Actions or
// a Kubernetes service account would): the verify endpoints admit it with the
// scopes the operator mapped, name it external_jwt with the issuer in the
// subject, and keep admitting after the provider rotates its key; a token of
// another organisation, another audience or an unknown issuer is refused, and
// the management API refuses even an admitted one.
func TestMain_ExternalJWT(t *testing.T) {
	aud := []string{"https://auth.home.example"}
	site := idptest.ServiceClient{ID: "deploy-site", Secret: "s1", Audience: aud,
		Claims: map[string]any{"repository": "acme/site", "repository_owner": "acme", "actor": "octocat"}}
	blog := idptest.ServiceClient{ID: "deploy-blog", Secret: "s2", Audience: aud,
		Claims: map[string]any{"repository": "acme/blog", "repository_owner": "acme"}}
	evil := idptest.ServiceClient{ID: "deploy-evil", Secret: "s3", Audience: aud,
		Claims: map[string]any{"repository": "evil/site", "repository_owner": "evil"}}
	elsewhere := idptest.ServiceClient{ID: "deploy-elsewhere", Secret: "s4", Audience: []string{"https://another.example"},
		Claims: map[string]any{"repository_owner": "acme"}}
	op := idptest.Start(t, idptest.Options{ServiceClients: []idptest.ServiceClient{site, blog, evil, elsewhere}})
	env := testEnv(dbtest.URL(t), "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"ci","issuer":"`+op.Issuer+`","audience":"https://auth.home.example",
		"algorithms":["RS256"],"require":{"repository_owner":"acme"},"scopes":["site:read"],
		"claim_scopes":[{"claim":"repository","value":"acme/site","scopes":["site:deploy"]}],"user_claim":"actor"}]`)
	admin := bootstrap(t, env)
	a := client{t, startMain(t, env).URL()}
	verifyAs := func(token, scope string) (int, http.Header) {
		t.Helper()
		code, h, _ := a.call("GET", "/auth-request?scope="+scope, "", "", "Authorization", "Bearer "+token,
			"X-Original-Method", "POST", "X-Original-URI", "/deploy")
		return code, h
	}
	siteToken := op.ClientCredentials(t, site.ID, site.Secret)
	code, h := verifyAs(siteToken, "site:deploy")
	if code != 200 || h.Get("X-Auth-Kind") != "external_jwt" || h.Get("X-Auth-Subject") != "ext:ci:deploy-site" ||
		h.Get("X-Auth-User") != "ext:ci:octocat" || h.Get("X-Auth-Scopes") != "site:deploy site:read" {
		t.Fatalf("the site's token: %d %v", code, h)
	}
	for _, tc := range []struct {
		name, token, scope string
		want               int
	}{
		{"another repository lacks the deploy scope", op.ClientCredentials(t, blog.ID, blog.Secret), "site:deploy", 403},
		{"another repository has the common scope", op.ClientCredentials(t, blog.ID, blog.Secret), "site:read", 200},
		{"another organisation", op.ClientCredentials(t, evil.ID, evil.Secret), "site:read", 401},
		{"another audience", op.ClientCredentials(t, elsewhere.ID, elsewhere.Secret), "site:read", 401},
		{"tampered payload", tamper(siteToken), "site:read", 401},
	} {
		if code, _ := verifyAs(tc.token, tc.scope); code != tc.want {
			t.Errorf("%s: %d; want %d", tc.name, code, tc.want)
		}
	}
	// The provider rotates its key: new tokens pass at once.
	op.RotateKey(t)
	if code, _ := verifyAs(op.ClientCredentials(t, site.ID, site.Secret), "site:deploy"); code != 200 {
		t.Errorf("a token signed with the rotated key: %d; want 200", code)
	}
	// Never a management credential, whatever its scopes.
	if code, _, body := a.call("GET", "/v1/keys", "", "", "Authorization", "Bearer "+siteToken); code != 401 ||
		!strings.Contains(string(body), "verify endpoints only") {
		t.Errorf("/v1/keys with an external token: %d %s; want 401", code, body)
	}
	if code, _, _ := a.call("GET", "/v1/keys", admin, ""); code != 200 {
		t.Errorf("/v1/keys as admin: %d", code)
	}
}

// tamper changes one character of a JWT's payload, keeping its signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	p := []byte(parts[1])
	if p[10] == 'A' {
		p[10] = 'B'
	} else {
		p[10] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}
