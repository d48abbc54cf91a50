package idp_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/authgate/authgate/idp"
)

func lookups(env map[string]string) idp.Lookups {
	return idp.Lookups{
		Env:      func(n string) (string, bool) { v, ok := env[n]; return v, ok },
		ReadFile: os.ReadFile,
	}
}

func TestParseProviders_Refusals(t *testing.T) {
	dir := t.TempDir()
	empty := dir + "/empty"
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"POCKET_SECRET": "s3cret"}
	tests := []struct {
		name, json, provider, field string
	}{
		{"NoID", `[{"issuer":"https://id.example","client_id":"a"}]`, "#1", "id"},
		{"UpperCaseID", `[{"id":"Pocket","issuer":"https://id.example","client_id":"a"}]`, "Pocket", "id"},
		{"IDWithSlash", `[{"id":"a/b","issuer":"https://id.example","client_id":"a"}]`, "a/b", "id"},
		{"NoIssuer", `[{"id":"p","client_id":"a"}]`, "p", "issuer"},
		{"HTTPIssuer", `[{"id":"p","issuer":"http://id.example","client_id":"a"}]`, "p", "issuer"},
		{"IssuerWithQuery", `[{"id":"p","issuer":"https://id.example/?x=1","client_id":"a"}]`, "p", "issuer"},
		{"IssuerWithUser", `[{"id":"p","issuer":"https://u@id.example","client_id":"a"}]`, "p", "issuer"},
		{"FTPIssuer", `[{"id":"p","issuer":"ftp://id.example","client_id":"a"}]`, "p", "issuer"},
		{"NoClientID", `[{"id":"p","issuer":"https://id.example"}]`, "p", "client_id"},
		{"BothSecrets", `[{"id":"p","issuer":"https://id.example","client_id":"a","client_secret_env":"POCKET_SECRET","client_secret_file":"/x"}]`, "p", "client_secret_env"},
		{"SecretEnvUnset", `[{"id":"p","issuer":"https://id.example","client_id":"a","client_secret_env":"NOPE"}]`, "p", "client_secret_env"},
		{"SecretFileMissing", `[{"id":"p","issuer":"https://id.example","client_id":"a","client_secret_file":"` + dir + `/none"}]`, "p", "client_secret_file"},
		{"SecretFileEmpty", `[{"id":"p","issuer":"https://id.example","client_id":"a","client_secret_file":"` + empty + `"}]`, "p", "client_secret_file"},
		{"ScopesWithoutOpenID", `[{"id":"p","issuer":"https://id.example","client_id":"a","scopes":["email"]}]`, "p", "scopes"},
		{"BadNewUsers", `[{"id":"p","issuer":"https://id.example","client_id":"a","new_users":"maybe"}]`, "p", "new_users"},
		{"DefaultRoleWithRefuse", `[{"id":"p","issuer":"https://id.example","client_id":"a","default_role":"family"}]`, "p", "default_role"},
		{"EmptyRole", `[{"id":"p","issuer":"https://id.example","client_id":"a","roles":{"admins":""}}]`, "p", "roles"},
		{"DuplicateID", `[{"id":"p","issuer":"https://id.example","client_id":"a"},{"id":"p","issuer":"https://id2.example","client_id":"b"}]`, "p", "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := idp.ParseProviders([]byte(tt.json), lookups(env))
			ce, ok := errors.AsType[*idp.ConfigError](err)
			if !ok {
				t.Fatalf("got %v; want a *ConfigError", err)
			}
			if ce.Provider != tt.provider || ce.Field != tt.field {
				t.Errorf("got provider %q field %q (%v); want %q %q", ce.Provider, ce.Field, err, tt.provider, tt.field)
			}
			if !errors.Is(err, idp.ErrConfig) {
				t.Errorf("got %v; want it to wrap ErrConfig", err)
			}
		})
	}
}

func TestParseProviders_UnknownFieldAndMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"UnknownField": `[{"id":"p","issuer":"https://id.example","client_id":"a","client_secret":"inline"}]`,
		"NotAList":     `{"id":"p"}`,
		"Trailing":     `[] []`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := idp.ParseProviders([]byte(in), lookups(nil)); !errors.Is(err, idp.ErrConfig) {
				t.Errorf("got %v; want ErrConfig", err)
			}
		})
	}
}

func TestParseProviders_DefaultsAndSecrets(t *testing.T) {
	file := t.TempDir() + "/secret"
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := idp.ParseProviders([]byte(`[
		{"id":"pocket","name":"Pocket ID","issuer":"https://id.home.example","client_id":"authgate","client_secret_env":"POCKET_SECRET",
		 "scopes":["openid","email","profile","groups"],"new_users":"create","default_role":"family","link_by_verified_email":true,
		 "username_claim":"preferred_username","groups_claim":"groups","roles":{"family":"family","admins":"admin"}},
		{"id":"local","issuer":"http://127.0.0.1:5556/","client_id":"b","client_secret_file":"`+file+`"}]`),
		lookups(map[string]string{"POCKET_SECRET": "s3cret\n"}))
	if err != nil {
		t.Fatal(err)
	}
	p, l := got[0], got[1]
	if p.ClientSecret != "s3cret" || l.ClientSecret != "from-file" {
		t.Errorf("got secrets %q %q; want s3cret from-file", p.ClientSecret, l.ClientSecret)
	}
	if p.Policy.NewUsers != "create" || p.Policy.DefaultRole != "family" || !p.Policy.LinkByVerifiedEmail || p.Policy.Roles["admins"] != "admin" {
		t.Errorf("got policy %+v", p.Policy)
	}
	if l.Name != "local" || strings.Join(l.Scopes, " ") != "openid email profile" || l.UsernameClaim != "preferred_username" ||
		l.GroupsClaim != "groups" || l.Policy.NewUsers != "refuse" {
		t.Errorf("got defaults %+v", l)
	}
}

func TestConfigError_NeverShowsTheSecret(t *testing.T) {
	_, err := idp.ParseProviders([]byte(`[{"id":"p","issuer":"http://id.example","client_id":"a","client_secret_env":"S"}]`),
		lookups(map[string]string{"S": "topsecretvalue"}))
	if err == nil || strings.Contains(err.Error(), "topsecretvalue") {
		t.Errorf("got %v; want an error without the secret", err)
	}
}

func TestProviderConfig_PrintsNoSecret(t *testing.T) {
	c := idp.ProviderConfig{ID: "p", Issuer: "https://id.example", ClientID: "a", ClientSecret: "topsecretvalue"}
	for _, got := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%v", []idp.ProviderConfig{c})} {
		if strings.Contains(got, "topsecretvalue") {
			t.Errorf("got %q; want no secret", got)
		}
	}
}
