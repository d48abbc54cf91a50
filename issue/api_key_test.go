package issue_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

// wrongSecret returns cred with its secret replaced: well formed, right lookup
// id, wrong secret.
func wrongSecret(t *testing.T, cred string) string {
	t.Helper()
	k, err := verify.ParseKey(verify.PrefixAPIKey, cred)
	if err != nil {
		t.Fatal(err)
	}
	other := verify.NewKey(verify.PrefixAPIKey)
	k.Secret = other.Secret
	return k.Reveal()
}

func decodeJSON[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body, err)
	}
	return v
}

func TestAPI_EveryRouteNeedsItsPermission(t *testing.T) {
	a := setupAPI(t)
	routes := [][3]string{
		{"POST", "/v1/keys", issue.PermKeysWrite}, {"GET", "/v1/keys", issue.PermKeysRead},
		{"GET", "/v1/keys/key_x", issue.PermKeysRead},
		{"POST", "/v1/keys/key_x/rotate", issue.PermKeysWrite}, {"POST", "/v1/keys/key_x/revoke", issue.PermKeysWrite},
		{"POST", "/v1/keys/key_x/disable", issue.PermKeysWrite}, {"POST", "/v1/keys/key_x/enable", issue.PermKeysWrite},
	}
	for _, rt := range routes {
		t.Run(rt[0]+rt[1], func(t *testing.T) {
			if w := a.do(t, rt[0], rt[1], "", "{}"); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("no credential: %d %q; want 401 with WWW-Authenticate", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if w := a.do(t, rt[0], rt[1], wrongSecret(t, a.admin), "{}"); w.Code != 401 {
				t.Errorf("the admin key's lookup id with another secret: %d; want 401", w.Code)
			}
			w := a.do(t, rt[0], rt[1], a.plain, "{}")
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, rt[2]) {
				t.Errorf("key without %s: %d %+v; want 403 naming the permission", rt[2], w.Code, body)
			}
			if w := a.do(t, rt[0], rt[1], a.admin, "{}"); w.Code == 401 || w.Code == 403 {
				t.Errorf("admin key: %d; want neither 401 nor 403", w.Code)
			}
		})
	}
}

func TestAPI_BadInputIsA400NamingTheProblem(t *testing.T) {
	a := setupAPI(t)
	k := decodeJSON[api.IssuedKey](t, a.do(t, "POST", "/v1/keys", a.admin, `{"name":"victim"}`))
	tests := []struct {
		name, method, path, body, want string
	}{
		{"MalformedJSON", "POST", "/v1/keys", `{"name":`, "ends too early"},
		{"Garbage", "POST", "/v1/keys", `not json`, "malformed JSON"},
		{"NotAnObject", "POST", "/v1/keys", `["a"]`, "must be a JSON object"},
		{"EmptyBody", "POST", "/v1/keys", ``, "body is empty"},
		{"UnknownField", "POST", "/v1/keys", `{"name":"a","scope":["x"]}`, "scope: unknown field"},
		{"WrongType", "POST", "/v1/keys", `{"name":"a","scopes":"x"}`, "scopes: must be an array"},
		{"TrailingData", "POST", "/v1/keys", `{"name":"a"} {"name":"b"}`, "unexpected data"},
		{"Oversized", "POST", "/v1/keys", `{"name":"` + strings.Repeat("a", api.MaxBodyLen) + `"}`, "larger than"},
		{"LongName", "POST", "/v1/keys", `{"name":"` + strings.Repeat("a", 101) + `"}`, "name: must be at most 100"},
		{"InvalidScope", "POST", "/v1/keys", `{"name":"a","scopes":["a b"]}`, "scopes:"},
		{"PastExpiry", "POST", "/v1/keys", `{"name":"a","expires_at":"2001-01-01T00:00:00Z"}`, "expires_at: must be in the future"},
		{"BadExpiry", "POST", "/v1/keys", `{"name":"a","expires_at":"next week"}`, "expires_at: must be an RFC 3339"},
		{"MetadataNotObject", "POST", "/v1/keys", `{"name":"a","metadata":"x"}`, "metadata: must be a JSON object"},
		{"GraceMissing", "POST", "/v1/keys/" + k.ID + "/rotate", `{}`, "grace_seconds: is required"},
		{"GraceNegative", "POST", "/v1/keys/" + k.ID + "/rotate", `{"grace_seconds":-1}`, "grace_seconds: must be between"},
		{"GraceTooLong", "POST", "/v1/keys/" + k.ID + "/rotate", `{"grace_seconds":99999999}`, "grace_seconds: must be between"},
		{"GraceFraction", "POST", "/v1/keys/" + k.ID + "/rotate", `{"grace_seconds":1.5}`, "grace_seconds: must be an integer"},
		{"RevokeWithFields", "POST", "/v1/keys/" + k.ID + "/revoke", `{"reason":"x"}`, "reason: unknown field"},
		{"BadState", "GET", "/v1/keys?state=gone", ``, "state: must be one of"},
		{"BadLimit", "GET", "/v1/keys?limit=0", ``, "limit: must be between"},
		{"BadCursor", "GET", "/v1/keys?cursor=zzz", ``, "cursor:"},
		{"UnknownParam", "GET", "/v1/keys?status=active", ``, "status: unknown query parameter"},
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
	if n, _ := a.svc.CountKeys(context.Background()); n != 3 {
		t.Fatalf("%d keys after bad requests; want the 3 created by the test", n)
	}
	got := decodeJSON[api.Key](t, a.do(t, "GET", "/v1/keys/"+k.ID, a.admin, ""))
	if got.State != string(issue.StateActive) || got.ExpiresAt != nil {
		t.Fatalf("the victim key changed: %+v", got)
	}
}

func TestAPI_KeyLifecycle(t *testing.T) {
	a := setupAPI(t)
	w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"cam","scopes":["cameras:stream"],"metadata":{"room":"hall"}}`)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	k := decodeJSON[api.IssuedKey](t, w)
	if k.Secret == "" || k.Prefix == "" || k.State != string(issue.StateActive) {
		t.Fatalf("create answered %s", w.Body)
	}
	// The secret is shown once: no later answer carries it.
	for _, path := range []string{"/v1/keys/" + k.ID, "/v1/keys"} {
		if body := a.do(t, "GET", path, a.admin, "").Body.String(); strings.Contains(body, k.Secret[len(k.Prefix):]) {
			t.Fatalf("GET %s returned the secret", path)
		}
	}
	if w := a.do(t, "GET", "/v1/keys/key_nope", a.admin, ""); w.Code != 404 {
		t.Fatalf("unknown key: %d; want 404", w.Code)
	}
	w = a.do(t, "POST", "/v1/keys/"+k.ID+"/rotate", a.admin, `{"grace_seconds":60}`)
	nk := decodeJSON[api.IssuedKey](t, w)
	if w.Code != 201 || nk.Secret == "" || nk.Secret == k.Secret || nk.RotatedFrom == nil || *nk.RotatedFrom != k.ID {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	for _, step := range []struct{ action, state string }{{"disable", "disabled"}, {"enable", "active"}, {"revoke", "revoked"}} {
		w := a.do(t, "POST", "/v1/keys/"+nk.ID+"/"+step.action, a.admin, "")
		if got := decodeJSON[api.Key](t, w); w.Code != 200 || string(got.State) != step.state {
			t.Fatalf("%s: %d %s; want 200 %s", step.action, w.Code, w.Body, step.state)
		}
	}
	if w := a.do(t, "POST", "/v1/keys/"+nk.ID+"/rotate", a.admin, `{"grace_seconds":0}`); w.Code != 409 {
		t.Fatalf("rotate a revoked key: %d %s; want 409", w.Code, w.Body)
	}
}

func TestAPI_ListPages(t *testing.T) {
	a := setupAPI(t)
	for range 5 {
		a.do(t, "POST", "/v1/keys", a.admin, `{"name":"k"}`)
	}
	a.now = a.now.Add(1) // distinct times are not needed, but moving the clock must not matter
	seen := map[string]bool{}
	path := "/v1/keys?limit=2"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page := decodeJSON[api.KeyPage](t, a.do(t, "GET", path, a.admin, ""))
		for _, k := range page.Keys {
			if seen[k.ID] {
				t.Fatalf("key %s on two pages", k.ID)
			}
			seen[k.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		path = "/v1/keys?limit=2&cursor=" + *page.NextCursor
	}
	if len(seen) != 7 { // 5 + admin + plain
		t.Fatalf("pages held %d keys; want 7", len(seen))
	}
	w := a.do(t, "GET", "/v1/keys?state=revoked", a.admin, "")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `"keys":[]`) {
		t.Fatalf("empty filter: %d %s; want an empty list", w.Code, body)
	}
}

func TestAPI_UnknownRouteIsJSON404(t *testing.T) {
	a := setupAPI(t)
	w := a.do(t, "GET", "/v2/nothing", "", "")
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != http.StatusNotFound || body.Error == "" {
		t.Fatalf("%d %s; want a JSON 404", w.Code, w.Body)
	}
}

// TestAPI_EveryRouteIsGuarded walks every route the API registers, so a new one
// cannot ship without a permission: without a credential it is a 401 with a
// challenge, and with a key holding no management permission a 403 naming what
// is missing. Only the routes listed as open may answer anything else.
func TestAPI_EveryRouteIsGuarded(t *testing.T) {
	a := setupAPI(t)
	open := map[string]bool{
		"POST /v1/auth/login":        true, // the password is the credential
		"POST /v1/auth/refresh":      true, // the refresh token is the credential
		"POST /v1/auth/oauth/login":  true, // the provider's ID token is the credential
		"POST /v1/auth/register":     true, // refused unless registration is open
		"GET /.well-known/jwks.json": true, // public keys
		"GET /openapi.json":          true, // the API's description
		"GET /docs":                  true,
	}
	seen := 0
	for _, r := range a.e.Routes() {
		name := r.Method + " " + r.Path
		if open[name] || strings.HasSuffix(r.Path, "/*") || r.Path == "/v1" {
			continue // the open routes, and echo's catch-alls for unknown paths
		}
		seen++
		path := strings.NewReplacer(":id", "x", ":tid", "tok_x", ":role", "viewer", ":name", "x", ":perm", "x:y").Replace(r.Path)
		t.Run(name, func(t *testing.T) {
			if w := a.do(t, r.Method, path, "", "{}"); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("no credential: %d %q; want 401 with WWW-Authenticate", w.Code, w.Header().Get("WWW-Authenticate"))
			}
			w := a.do(t, r.Method, path, a.plain, "{}")
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || body.Description == "" {
				t.Errorf("key without management permissions: %d %+v; want 403 saying what is needed", w.Code, body)
			}
		})
	}
	if seen < 39 {
		t.Errorf("walked %d guarded routes; the API registers more (is Register still wiring them?)", seen)
	}
}

// TestAPI_ErrorsSayWhatIsMissing: a 401 says what the route wants, and a 404
// for a name the client sent names it.
func TestAPI_ErrorsSayWhatIsMissing(t *testing.T) {
	a := setupAPI(t)
	u := a.newUser(t, "nina")
	tests := []struct {
		name, method, path, cred string
		status                   int
		want                     string
	}{
		{"UserRouteBadToken", "GET", "/v1/me", "eyJhbGciOiJub25lIn0.e30.c2ln", 401, "a user's access token from /v1/auth/login"},
		{"UserRouteNoToken", "GET", "/v1/me/tokens", "", 401, "a user's access token from /v1/auth/login"},
		{"KeyRouteBadKey", "GET", "/v1/keys", wrongSecret(t, a.admin), 401, "an API key in X-API-Key or Authorization: Bearer, or a user's access token"},
		{"KeyRouteNoKey", "GET", "/v1/keys", "", 401, "an API key in X-API-Key or Authorization: Bearer, or a user's access token"},
		{"GrantUnknownPermission", "PUT", "/v1/roles/viewer/permissions/no:such", a.admin, 404, `no permission "no:such"`},
		{"GrantToUnknownRole", "PUT", "/v1/roles/nope/permissions/keys:read", a.admin, 404, `no role "nope"`},
		{"RevokeFromUnknownRole", "DELETE", "/v1/roles/nope/permissions/keys:read", a.admin, 404, `no role "nope"`},
		{"AssignUnknownRole", "PUT", "/v1/users/" + u.ID + "/roles/nope", a.admin, 404, `no role "nope"`},
		{"AssignToUnknownUser", "PUT", "/v1/users/usr_nope/roles/viewer", a.admin, 404, `no user "usr_nope"`},
		{"UnknownKey", "POST", "/v1/keys/key_nope/disable", a.admin, 404, `no key "key_nope"`},
		{"UnknownAuditAction", "GET", "/v1/audit?action=key.explode", a.admin, 400, "action: must be one of key.create, "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, tt.method, tt.path, tt.cred, "")
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != tt.status || !strings.Contains(body.Description, tt.want) {
				t.Fatalf("got %d %+v; want %d saying %q", w.Code, body, tt.status, tt.want)
			}
		})
	}
}
