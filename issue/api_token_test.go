package issue_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

type tokenPage struct {
	Tokens []json.RawMessage `json:"tokens"`
}

// myTokens lists the tokens of the user whose access token is at.
func (a *apiBundle) myTokens(t *testing.T, at string) []api.PersonalToken {
	t.Helper()
	w := a.do(t, "GET", "/v1/me/tokens", at, "")
	if w.Code != 200 {
		t.Fatalf("GET /v1/me/tokens: %d %s", w.Code, w.Body)
	}
	return decodeJSON[api.TokenPage](t, w).Tokens
}

func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s is not a JSON object: %v", raw, err)
	}
	return slices.Sorted(maps.Keys(m))
}

func TestAPI_MyTokens_Lifecycle(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.appRole(t, "watcher", "events:read", "cameras:stream")
	u := a.newUser(t, "tina", "viewer", "watcher")
	at := a.mustLogin(t, "tina").AccessToken
	w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"Kitchen kiosk","scopes":["events:read","cameras:stream"],"expires_in_days":30}`)
	if w.Code != 201 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q %s; want 201 with Cache-Control: no-store", w.Code, w.Header().Get("Cache-Control"), w.Body)
	}
	want := []string{"created_at", "expires_at", "id", "last_used_at", "name", "prefix", "rate_limit", "revoked_at", "scopes", "token", "user_id"}
	if got := jsonKeys(t, w.Body.Bytes()); !slices.Equal(got, want) {
		t.Fatalf("create answered fields %v; want %v", got, want)
	}
	tok := decodeJSON[api.IssuedToken](t, w)
	if !strings.HasPrefix(tok.Secret, tok.Prefix) || !strings.HasPrefix(tok.Prefix, verify.PrefixPersonalToken) ||
		tok.UserID != u.ID || !slices.Equal(tok.Scopes, []string{"cameras:stream", "events:read"}) {
		t.Fatalf("create answered %s", w.Body)
	}
	secret := tok.Secret[len(tok.Prefix):]

	// The secret is shown once: no list carries it, mine or an admin's.
	for _, r := range []struct{ path, cred string }{{"/v1/me/tokens", at}, {"/v1/users/" + u.ID + "/tokens", a.admin}} {
		w := a.do(t, "GET", r.path, r.cred, "")
		if w.Code != 200 || strings.Contains(w.Body.String(), secret) {
			t.Fatalf("GET %s: %d %s; want 200 without the secret", r.path, w.Code, w.Body)
		}
		page := decodeJSON[tokenPage](t, w)
		if len(page.Tokens) != 1 || !slices.Equal(jsonKeys(t, page.Tokens[0]), slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "token" })) {
			t.Fatalf("GET %s: %s; want the one token, every field but the secret", r.path, w.Body)
		}
	}

	w = a.do(t, "DELETE", "/v1/me/tokens/"+tok.ID, at, "")
	if got := decodeJSON[api.PersonalToken](t, w); w.Code != 200 || got.RevokedAt == nil || strings.Contains(w.Body.String(), secret) {
		t.Fatalf("revoke: %d %s; want 200 with revoked_at", w.Code, w.Body)
	}
	if list := a.myTokens(t, at); len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("after revoke: %+v; want the token, revoked", list)
	}
	// The name is free again.
	if w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"Kitchen kiosk","expires_in_days":1}`); w.Code != 201 {
		t.Fatalf("reuse the name after revoke: %d %s", w.Code, w.Body)
	}
}

func TestAPI_MyTokens_BadInputIsA4xxNamingTheProblem(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.appRole(t, "watcher", "events:read")
	a.appRole(t, "opener", "doors:open", "cameras:stream") // they exist; tina does not hold them
	a.newUser(t, "tina", "viewer", "watcher")              // keys:read roles:read users:read events:read
	at := a.mustLogin(t, "tina").AccessToken
	if w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"taken","expires_in_days":1}`); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"DaysZero", `{"name":"a","expires_in_days":0}`, 400, "expires_in_days: must be between 1 and 365"},
		{"DaysNegative", `{"name":"a","expires_in_days":-1}`, 400, "expires_in_days: must be between 1 and 365"},
		{"DaysOverMax", `{"name":"a","expires_in_days":366}`, 400, "expires_in_days: must be between 1 and 365"},
		{"DaysMissing", `{"name":"a"}`, 400, "expires_in_days: is required"},
		{"DaysNull", `{"name":"a","expires_in_days":null}`, 400, "expires_in_days: is required"},
		{"DaysString", `{"name":"a","expires_in_days":"30"}`, 400, "expires_in_days: must be an integer"},
		{"DaysFraction", `{"name":"a","expires_in_days":1.5}`, 400, "expires_in_days: must be an integer"},
		{"DaysHuge", `{"name":"a","expires_in_days":1e30}`, 400, "expires_in_days: must be an integer"},
		{"NameMissing", `{"expires_in_days":1}`, 400, "name: is required"},
		{"NameTooLong", `{"name":"` + strings.Repeat("a", 101) + `","expires_in_days":1}`, 400, "name: must be at most 100"},
		{"NameControl", `{"name":"a\u0007b","expires_in_days":1}`, 400, "name: must be printable text"},
		{"NameNewline", `{"name":"a\nb","expires_in_days":1}`, 400, "name: must be printable text"},
		{"NameBidi", `{"name":"a\u202eb","expires_in_days":1}`, 400, "name: must be printable"},
		{"ScopeInvalid", `{"name":"a","scopes":["a b"],"expires_in_days":1}`, 400, "scopes:"},
		{"ScopesNotArray", `{"name":"a","scopes":"keys:read","expires_in_days":1}`, 400, "scopes: must be an array"},
		{"UnknownField", `{"name":"a","expires_in_days":1,"expires_at":"2031-01-01T00:00:00Z"}`, 400, "expires_at: unknown field"},
		{"EmptyBody", ``, 400, "body is empty"},
		{"ScopesNotHeld", `{"name":"a","scopes":["events:read","doors:open","cameras:stream"],"expires_in_days":1}`, 403,
			"you do not hold scopes cameras:stream, doors:open"},
		// authgate's own permissions never go in a personal token, held or not.
		{"OwnPermissionHeld", `{"name":"a","scopes":["events:read","keys:read"],"expires_in_days":1}`, 400,
			"scopes: a personal token cannot carry keys:read, one of authgate's own permissions"},
		{"OwnPermissionNotHeld", `{"name":"a","scopes":["keys:write"],"expires_in_days":1}`, 400,
			"scopes: a personal token cannot carry keys:write, one of authgate's own permissions"},
		{"ScopeAdmin", `{"name":"a","scopes":["authgate:admin"],"expires_in_days":1}`, 400,
			"scopes: a personal token cannot carry authgate:admin, one of authgate's own permissions"},
		{"NameTaken", `{"name":"taken","expires_in_days":1}`, 409, `you already have a token named "taken"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "POST", "/v1/me/tokens", at, tt.body)
			body := decodeJSON[api.ErrorBody](t, w)
			if w.Code != tt.status || !strings.Contains(body.Description, tt.want) {
				t.Fatalf("%d %+v; want %d mentioning %q", w.Code, body, tt.status, tt.want)
			}
		})
	}
	if list := a.myTokens(t, at); len(list) != 1 {
		t.Fatalf("%d tokens after bad requests; want only the first", len(list))
	}
	if n := len(a.auditRows(t, "token.create")); n != 1 {
		t.Fatalf("%d token.create rows; want 1", n)
	}
}

func TestAPI_MyTokens_MaxDaysIsConfigurable(t *testing.T) {
	a := setupAuth(t, issue.Options{MaxTokenDays: 30})
	a.newUser(t, "tina")
	at := a.mustLogin(t, "tina").AccessToken
	w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"a","expires_in_days":31}`)
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 400 || !strings.Contains(body.Description, "between 1 and 30") {
		t.Fatalf("31 days with a cap of 30: %d %+v; want 400 naming 30", w.Code, body)
	}
	if w := a.do(t, "POST", "/v1/me/tokens", at, `{"name":"a","expires_in_days":30}`); w.Code != 201 {
		t.Fatalf("30 days with a cap of 30: %d %s", w.Code, w.Body)
	}
}

func TestAPI_MyTokens_OnlyForUsers(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "tina")
	at := a.mustLogin(t, "tina").AccessToken
	tok := decodeJSON[api.IssuedToken](t, a.do(t, "POST", "/v1/me/tokens", at, `{"name":"a","expires_in_days":1}`))
	for _, r := range [][2]string{{"POST", "/v1/me/tokens"}, {"GET", "/v1/me/tokens"}, {"DELETE", "/v1/me/tokens/" + tok.ID}} {
		if w := a.do(t, r[0], r[1], a.admin, `{"name":"b","expires_in_days":1}`); w.Code != 403 || !strings.Contains(w.Body.String(), "for users") {
			t.Errorf("%s %s with an API key: %d %s; want 403 saying it is for users", r[0], r[1], w.Code, w.Body)
		}
		if w := a.do(t, r[0], r[1], "", `{"name":"b","expires_in_days":1}`); w.Code != 401 {
			t.Errorf("%s %s anonymously: %d; want 401", r[0], r[1], w.Code)
		}
		// A personal token cannot mint, list or revoke personal tokens: it is
		// refused as a credential, or as not a user's access token.
		if w := a.do(t, r[0], r[1], tok.Secret, `{"name":"b","expires_in_days":1}`); w.Code != 401 && w.Code != 403 {
			t.Errorf("%s %s with a personal token: %d %s; want 401 or 403", r[0], r[1], w.Code, w.Body)
		}
	}
	if list := a.myTokens(t, at); len(list) != 1 || list[0].RevokedAt != nil {
		t.Fatalf("tokens after refused requests: %+v; want the one, live", list)
	}
}

func TestAPI_MyTokens_AnotherUsersTokenIs404(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "tina")
	a.newUser(t, "otto")
	tina, otto := a.mustLogin(t, "tina").AccessToken, a.mustLogin(t, "otto").AccessToken
	tok := decodeJSON[api.IssuedToken](t, a.do(t, "POST", "/v1/me/tokens", tina, `{"name":"a","expires_in_days":1}`))
	for _, id := range []string{tok.ID, "tok_nope"} {
		if w := a.do(t, "DELETE", "/v1/me/tokens/"+id, otto, ""); w.Code != 404 {
			t.Fatalf("otto revoking %s: %d %s; want 404", id, w.Code, w.Body)
		}
	}
	if list := a.myTokens(t, otto); len(list) != 0 {
		t.Fatalf("otto sees %d tokens; want none of tina's", len(list))
	}
	if list := a.myTokens(t, tina); len(list) != 1 || list[0].RevokedAt != nil {
		t.Fatalf("tina's token after otto tried: %+v; want it live", list)
	}
}

func TestAPI_UserTokens(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "tina")
	other := a.newUser(t, "otto")
	a.newUser(t, "vic", "viewer") // users:read, not users:write
	tina, viewer := a.mustLogin(t, "tina").AccessToken, a.mustLogin(t, "vic").AccessToken
	tok := decodeJSON[api.IssuedToken](t, a.do(t, "POST", "/v1/me/tokens", tina, `{"name":"a","expires_in_days":1}`))
	path := "/v1/users/" + u.ID + "/tokens"

	if w := a.do(t, "GET", path, viewer, ""); w.Code != 200 || len(decodeJSON[tokenPage](t, w).Tokens) != 1 {
		t.Fatalf("viewer lists tina's tokens: %d %s; want 200 with one", w.Code, w.Body)
	}
	w := a.do(t, "DELETE", path+"/"+tok.ID, viewer, "")
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 403 || !strings.Contains(body.Description, issue.PermUsersWrite) {
		t.Fatalf("viewer revokes: %d %+v; want 403 naming %s", w.Code, body, issue.PermUsersWrite)
	}
	if w := a.do(t, "DELETE", "/v1/users/"+other.ID+"/tokens/"+tok.ID, a.admin, ""); w.Code != 404 {
		t.Fatalf("revoke tina's token under otto: %d %s; want 404", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/users/usr_nope/tokens", a.admin, ""); w.Code != 404 {
		t.Fatalf("tokens of an unknown user: %d %s; want 404", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", path+"/"+tok.ID, a.admin, `{"why":"x"}`); w.Code != 400 {
		t.Fatalf("revoke with a body: %d %s; want 400", w.Code, w.Body)
	}
	w = a.do(t, "DELETE", path+"/"+tok.ID, a.admin, "")
	if got := decodeJSON[api.PersonalToken](t, w); w.Code != 200 || got.RevokedAt == nil {
		t.Fatalf("admin revokes: %d %s; want 200 revoked", w.Code, w.Body)
	}
	if list := a.myTokens(t, tina); len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("tina's token after the admin revoked it: %+v", list)
	}
	rows := a.auditRows(t, "token.revoke")
	if len(rows) != 1 || rows[0]["_actor"] == "user:"+u.ID || rows[0]["_resource_id"] != tok.ID {
		t.Fatalf("token.revoke rows = %v; want one by the admin key", rows)
	}
}

func TestAPI_Refresh_RefusesAPersonalToken(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "tina")
	tokens := a.mustLogin(t, "tina")
	tok := decodeJSON[api.IssuedToken](t, a.do(t, "POST", "/v1/me/tokens", tokens.AccessToken, `{"name":"a","expires_in_days":1}`))
	w := a.do(t, "POST", "/v1/auth/refresh", "", `{"refresh_token":"`+tok.Secret+`"}`)
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 400 || !strings.Contains(body.Description, "refresh_token: must be a refresh token (agr_") {
		t.Fatalf("refresh with a personal token: %d %+v; want 400 saying a refresh token is needed", w.Code, body)
	}
	// The reverse: a refresh token is no credential for the API.
	if w := a.do(t, "GET", "/v1/me/tokens", tokens.RefreshToken, ""); w.Code != 401 {
		t.Fatalf("GET /v1/me/tokens with a refresh token: %d %s; want 401", w.Code, w.Body)
	}
	if w := a.do(t, "POST", "/v1/me/tokens", tokens.RefreshToken, `{"name":"b","expires_in_days":1}`); w.Code != 401 {
		t.Fatalf("POST /v1/me/tokens with a refresh token: %d %s; want 401", w.Code, w.Body)
	}
	if n := len(a.auditRows(t, "token.create")); n != 1 {
		t.Fatalf("%d token.create rows; want 1", n)
	}
}
