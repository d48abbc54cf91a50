package issue_test

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// TestAPI_KeyRateLimit: a key's own rate limit is set at creation, changed
// and removed through the API, kept by a rotation, audited, refused for bad
// figures and for a caller that does not hold the key's scopes.
func TestAPI_KeyRateLimit(t *testing.T) {
	a := setupAPI(t)
	w := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"exporter","scopes":["events:read"],"rate_limit":{"requests":10,"window_seconds":60}}`)
	k := decodeJSON[api.IssuedKey](t, w)
	if w.Code != 201 || k.RateLimit == nil || *k.RateLimit != (api.RateLimit{Requests: 10, WindowSeconds: 60, Burst: 10}) {
		t.Fatalf("create with a limit: %d %s", w.Code, w.Body)
	}
	w = a.do(t, "PUT", "/v1/keys/"+k.ID+"/rate-limit", a.admin, `{"requests":100,"window_seconds":3600,"burst":5}`)
	if got := decodeJSON[api.Key](t, w); w.Code != 200 || got.RateLimit == nil || *got.RateLimit != (api.RateLimit{Requests: 100, WindowSeconds: 3600, Burst: 5}) {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	w = a.do(t, "POST", "/v1/keys/"+k.ID+"/rotate", a.admin, `{"grace_seconds":0}`)
	nk := decodeJSON[api.IssuedKey](t, w)
	if w.Code != 201 || nk.RateLimit == nil || nk.RateLimit.Requests != 100 {
		t.Fatalf("rotation dropped the limit: %d %s", w.Code, w.Body)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"requests":0,"window_seconds":60}`, "rate_limit.requests"},
		{`{"requests":1,"window_seconds":86401}`, "rate_limit.window_seconds"},
		{`{"requests":1,"window_seconds":1,"burst":-1}`, "rate_limit.burst"},
		{`{"requests":1,"window_seconds":1,"per":"minute"}`, "per"},
	} {
		if w := a.do(t, "PUT", "/v1/keys/"+nk.ID+"/rate-limit", a.admin, bad.body); w.Code != 400 {
			t.Errorf("%s: %d %s; want 400 naming %s", bad.body, w.Code, w.Body, bad.field)
		}
	}
	// A caller with keys:write but not the key's scope may not change it.
	writer := a.newKey(t, "writer", issue.PermKeysWrite)
	if w := a.do(t, "DELETE", "/v1/keys/"+nk.ID+"/rate-limit", writer, ""); w.Code != 403 {
		t.Errorf("clear by a caller lacking events:read: %d %s; want 403", w.Code, w.Body)
	}
	// A limited key holding keys:write does not lift its own limit.
	self := a.do(t, "POST", "/v1/keys", a.admin, `{"name":"self","scopes":["keys:write"],"rate_limit":{"requests":1,"window_seconds":1}}`)
	sk := decodeJSON[api.IssuedKey](t, self)
	if w := a.do(t, "DELETE", "/v1/keys/"+sk.ID+"/rate-limit", sk.Secret, ""); w.Code != 403 || !strings.Contains(w.Body.String(), "its own rate limit") {
		t.Errorf("a key clearing its own limit: %d %s; want 403", w.Code, w.Body)
	}
	w = a.do(t, "DELETE", "/v1/keys/"+nk.ID+"/rate-limit", a.admin, "")
	if got := decodeJSON[api.Key](t, w); w.Code != 200 || got.RateLimit != nil {
		t.Fatalf("clear: %d %s", w.Code, w.Body)
	}
	rows := a.auditRows(t, "key.rate_limit")
	if len(rows) != 2 || rows[0]["rate_limit"] == nil && rows[1]["rate_limit"] == nil {
		t.Errorf("audit rows = %v; want the change and the removal", rows)
	}
	a.do(t, "POST", "/v1/keys/"+nk.ID+"/revoke", a.admin, "")
	if w := a.do(t, "PUT", "/v1/keys/"+nk.ID+"/rate-limit", a.admin, `{"requests":1,"window_seconds":1}`); w.Code != 409 {
		t.Errorf("a revoked key: %d; want 409", w.Code)
	}
}

// TestAPI_TokenRateLimit: a personal token's own rate limit is set at
// creation and changed or removed by its owner, and the verifier applies it.
func TestAPI_TokenRateLimit(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.appRole(t, "watcher", "events:read")
	a.newUser(t, "tina", "watcher")
	a.newUser(t, "otto", "watcher")
	at := a.mustLogin(t, "tina").AccessToken
	w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"kiosk","scopes":["events:read"],"expires_in_days":30,"rate_limit":{"requests":2,"window_seconds":60,"burst":1}}`)
	tok := decodeJSON[api.IssuedToken](t, w)
	if w.Code != 201 || tok.RateLimit == nil || *tok.RateLimit != (api.RateLimit{Requests: 2, WindowSeconds: 60, Burst: 1}) {
		t.Fatalf("create with a limit: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, "PUT", "/v1/me/tokens/"+tok.ID+"/rate-limit", a.mustLogin(t, "otto").AccessToken,
		`{"requests":1,"window_seconds":1}`); w.Code != 404 {
		t.Errorf("another user's token: %d; want 404", w.Code)
	}
	w = a.do(t, "PUT", "/v1/me/tokens/"+tok.ID+"/rate-limit", at, `{"requests":5,"window_seconds":60}`)
	if got := decodeJSON[api.PersonalToken](t, w); w.Code != 200 || got.RateLimit == nil || got.RateLimit.Burst != 5 {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	w = a.do(t, "DELETE", "/v1/me/tokens/"+tok.ID+"/rate-limit", at, "")
	if got := decodeJSON[api.PersonalToken](t, w); w.Code != 200 || got.RateLimit != nil {
		t.Fatalf("clear: %d %s", w.Code, w.Body)
	}
	if rows := a.auditRows(t, "token.rate_limit"); len(rows) != 2 {
		t.Errorf("audit rows = %v; want 2", rows)
	}
}
