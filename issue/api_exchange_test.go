package issue_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// fakeIDTokens stands for the providers: "good-<sub>" is pocket's ID token
// for person(<sub>), "good-at-<sub>" its access token for person(<sub>),
// anything else a token that fails its checks.
type fakeIDTokens struct{}

func (fakeIDTokens) VerifyIDToken(_ context.Context, provider, raw string) (issue.ExternalIdentity, error) {
	if sub, ok := strings.CutPrefix(raw, "good-"); ok && provider == "pocket" {
		return person(sub), nil
	}
	if raw == "outside-domain" {
		return issue.ExternalIdentity{}, &issue.NotAdmittedError{Check: "hosted_domain"}
	}
	return issue.ExternalIdentity{}, &issue.AuthError{Err: issue.ErrUnauthenticated, Msg: "the ID token was refused"}
}

func (fakeIDTokens) VerifyAccessToken(_ context.Context, provider, raw string) (issue.ExternalIdentity, error) {
	if sub, ok := strings.CutPrefix(raw, "good-at-"); ok && provider == "pocket" {
		return person(sub), nil
	}
	return issue.ExternalIdentity{}, &issue.AuthError{Err: issue.ErrUnauthenticated, Msg: "the access token was refused"}
}

func (fakeIDTokens) Policy(provider string) (issue.ProviderPolicy, bool) {
	return createFamily, provider == "pocket"
}

// TestAPI_OAuthLogin: the exchange route's answers, and its per-address
// throttle, shared with the password logins, which only failures use up.
func TestAPI_OAuthLogin(t *testing.T) {
	a := extWorld(t, issue.Options{})
	x := api.New(a.svc, nil) // the route is open: no credential is read
	x.SetExternal(fakeIDTokens{})
	a.e = newEcho(t, x)
	for _, tt := range []struct {
		name, body string
		want       int
		says       string
	}{
		{"Good", `{"provider":"pocket","id_token":"good-Kim","device_name":"Kim's phone"}`, 200, `"refresh_token":"agr_`},
		{"BadToken", `{"provider":"pocket","id_token":"forged"}`, 401, "refused"},
		{"NotAdmitted", `{"provider":"pocket","id_token":"outside-domain"}`, 403, "not allowed to sign in here"},
		{"UnknownProvider", `{"provider":"elsewhere","id_token":"good-Kim"}`, 400, "provider"},
		{"AccessToken", `{"provider":"pocket","access_token":"good-at-Kim"}`, 200, `"refresh_token":"agr_`},
		{"BadAccessToken", `{"provider":"pocket","access_token":"at"}`, 401, "access token was refused"},
		{"BothForms", `{"provider":"pocket","id_token":"good-Kim","access_token":"good-at-Kim"}`, 400, "not both"},
		{"NoToken", `{"provider":"pocket"}`, 400, "id_token"},
		{"UnknownField", `{"provider":"pocket","id_token":"good-Kim","password":"x"}`, 400, "password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "POST", "/v1/auth/oauth/login", "", tt.body)
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.says) {
				t.Errorf("%d %s; want %d saying %s", w.Code, w.Body, tt.want, tt.says)
			}
		})
	}
	rows := a.auditRows(t, "user.login_failed")
	if !slices.ContainsFunc(rows, func(r map[string]any) bool { return r["reason"] == "not_admitted" && r["check"] == "hosted_domain" }) {
		t.Errorf("no user.login_failed row for the account the provider's configuration refused: %v", rows)
	}
	t.Run("Throttled", func(t *testing.T) {
		ip := "192.0.2.77"
		for i := range 25 { // a success gives its attempt back
			if w := a.doFrom(t, ip, "POST", "/v1/auth/oauth/login", "", `{"provider":"pocket","id_token":"good-Kim"}`); w.Code != 200 {
				t.Fatalf("success %d: %d %s", i, w.Code, w.Body)
			}
		}
		var last int
		for range 25 {
			last = a.doFrom(t, ip, "POST", "/v1/auth/oauth/login", "", `{"provider":"pocket","id_token":"forged"}`).Code
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("after 25 refused tokens from one address: %d; want 429", last)
		}
		if w := a.doFrom(t, ip, "POST", "/v1/auth/login", "", `{"login":"kim","password":"whatever it is"}`); w.Code != 429 {
			t.Fatalf("password login from the same address: %d; want 429 (one allowance)", w.Code)
		}
	})
}
