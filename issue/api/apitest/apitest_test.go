package apitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheck: answers as the document describes them pass; a missing or
// unknown field, a wrong type, an undocumented status or content type, and an
// undocumented route answering anything but an ErrorBody do not.
func TestCheck(t *testing.T) {
	const key = `{"id":"key_1","prefix":"agk_1","subject":"key_1","name":"n","scopes":[],"metadata":{},"state":"active",` +
		`"expires_at":null,"disabled_at":null,"revoked_at":null,"rotated_from":null,"last_used_at":null,` +
		`"created_at":"2030-01-01T00:00:00Z","created_by":"test","rate_limit":null}`
	tests := []struct {
		name, method, path, body string
		status                   int
		header                   string // WWW-Authenticate
		ok                       bool
	}{
		{"Key", "GET", "/v1/keys/key_1", key, 200, "", true},
		{"KeyUnknownField", "GET", "/v1/keys/key_1", strings.Replace(key, `"name"`, `"secret":"x","name"`, 1), 200, "", false},
		{"KeyMissingField", "GET", "/v1/keys/key_1", strings.Replace(key, `"name":"n",`, ``, 1), 200, "", false},
		{"KeyWrongType", "GET", "/v1/keys/key_1", strings.Replace(key, `"scopes":[]`, `"scopes":null`, 1), 200, "", false},
		{"KeyBadState", "GET", "/v1/keys/key_1", strings.Replace(key, `"active"`, `"sleeping"`, 1), 200, "", false},
		{"UndocumentedStatus", "GET", "/v1/keys/key_1", key, 201, "", false},
		{"Error", "GET", "/v1/keys/key_1", `{"error":"not_found","error_description":"no key"}`, 404, "", true},
		{"ErrorNotErrorBody", "GET", "/v1/keys/key_1", `{"message":"no key"}`, 404, "", false},
		{"UnauthenticatedWithChallenge", "GET", "/v1/keys", `{"error":"unauthenticated","error_description":"x"}`, 401, `Bearer realm="authgate"`, true},
		{"UnauthenticatedWithoutChallenge", "GET", "/v1/keys", `{"error":"unauthenticated","error_description":"x"}`, 401, "", false},
		{"NoContent", "DELETE", "/v1/users/usr_1", ``, 204, "", true},
		{"UnknownPathError", "GET", "/v1/nothing", `{"error":"not_found","error_description":"Not Found"}`, 404, "", true},
		{"UnknownPathOther", "GET", "/v1/nothing", `{"keys":[]}`, 200, "", false},
		{"MethodNotAllowed", "PUT", "/v1/keys", `{"error":"method_not_allowed","error_description":"Method Not Allowed"}`, 405, "", true},
		{"Health", "GET", "/healthz", `{"status":"ok","version":"dev","commit":"unknown"}`, 200, "", true},
		{"HealthWithoutCommit", "GET", "/healthz", `{"status":"ok","version":"dev"}`, 200, "", false},
	}
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			path, params := Match(doc, r.URL.EscapedPath())
			h := http.Header{}
			if tt.body != "" {
				h.Set("Content-Type", "application/json")
			}
			if tt.header != "" {
				h.Set("WWW-Authenticate", tt.header)
			}
			err := Check(r, path, params, tt.status, h, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("Check = %v; want ok %v", err, tt.ok)
			}
		})
	}
}

// TestMatch: a URL path falls under the document's path with the most
// literal segments.
func TestMatch(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ url, want, id string }{
		{"/v1/keys/key_1", "/v1/keys/{id}", "key_1"},
		{"/v1/keys/key_1/usage", "/v1/keys/{id}/usage", "key_1"},
		{"/v1/me/tokens/tok_1", "/v1/me/tokens/{id}", "tok_1"},
		{"/v1/keys", "/v1/keys", ""},
		{"/v1/keys/", "", ""},
		{"/forward-auth", "", ""},
	} {
		if got, params := Match(doc, tt.url); got != tt.want || params["id"] != tt.id {
			t.Errorf("Match(%q) = %q %v; want %q with id %q", tt.url, got, params, tt.want, tt.id)
		}
	}
}
