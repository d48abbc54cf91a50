package issue_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

func TestAPI_Login(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "lena", "viewer")
	for _, body := range []string{
		`{"login":"lena","password":"password-of-lena"}`,
		`{"username":"lena","password":"password-of-lena"}`,
		`{"login":"lena@example.com","username":"lena@example.com","password":"password-of-lena"}`,
	} {
		w := a.do(t, "POST", "/v1/auth/login", "", body)
		if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d %q %s; want 200 with Cache-Control: no-store", body, w.Code, w.Header().Get("Cache-Control"), w.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		keys := slices.Sorted(maps.Keys(m))
		if !slices.Equal(keys, []string{"access_token", "expires_in", "refresh_token", "token_type"}) ||
			m["token_type"] != "bearer" || m["expires_in"] != 900.0 {
			t.Fatalf("%s answered %s; want access_token, refresh_token, token_type bearer, expires_in 900", body, w.Body)
		}
	}
	// A stale access token sent along does not stand in the way.
	if w := a.do(t, "POST", "/v1/auth/login", "eyJhbGciOiJub25lIn0.e30.c2ln", `{"login":"lena","password":"password-of-lena"}`); w.Code != 200 {
		t.Fatalf("login with a stale bearer token: %d %s; want 200", w.Code, w.Body)
	}
}

func TestAPI_Login_FailuresLookAlike(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "finn")
	wrong := a.do(t, "POST", "/v1/auth/login", "", `{"login":"finn","password":"wrong-password"}`)
	unknown := a.do(t, "POST", "/v1/auth/login", "", `{"login":"nobody","password":"wrong-password"}`)
	if wrong.Code != 401 || unknown.Code != 401 || wrong.Body.String() != unknown.Body.String() {
		t.Fatalf("wrong password %d %s, unknown user %d %s; want the same 401", wrong.Code, wrong.Body, unknown.Code, unknown.Body)
	}
	if body := decodeJSON[api.ErrorBody](t, wrong); body.Description != "invalid username or password" ||
		wrong.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("%+v; want invalid username or password with WWW-Authenticate", body)
	}
}

func TestAPI_Login_Lockout(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "liz")
	for range 5 {
		a.do(t, "POST", "/v1/auth/login", "", `{"login":"liz","password":"wrong-password"}`)
	}
	w := a.do(t, "POST", "/v1/auth/login", "", `{"login":"liz","password":"password-of-liz"}`)
	if body := decodeJSON[api.ErrorBody](t, w); w.Code != 429 || w.Header().Get("Retry-After") != "300" || body.Error != "too_many_requests" {
		t.Fatalf("locked account: %d Retry-After %q %s; want 429 after 300 s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}

func TestAPI_Login_ThrottlesPerIP(t *testing.T) {
	a := setupAuth(t, issue.Options{LockoutThreshold: 1}) // 4 attempts per IP per 15 minutes
	for range 4 {
		a.doFrom(t, "198.51.100.7", "POST", "/v1/auth/login", "", `{"login":"nobody","password":"x"}`)
	}
	w := a.doFrom(t, "198.51.100.7", "POST", "/v1/auth/login", "", `{"login":"nobody","password":"x"}`)
	if w.Code != 429 || w.Header().Get("Retry-After") != "225" { // 15 min / 4
		t.Fatalf("5th attempt: %d Retry-After %q; want 429 after 225 s", w.Code, w.Header().Get("Retry-After"))
	}
	if w := a.doFrom(t, "198.51.100.8", "POST", "/v1/auth/login", "", `{"login":"nobody","password":"x"}`); w.Code != 401 {
		t.Fatalf("another IP: %d; want 401", w.Code)
	}
}

func TestAPI_Auth_BadInput(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "bo")
	tok := a.mustLogin(t, "bo")
	tests := []struct{ name, path, body, want string }{
		{"Garbage", "/v1/auth/login", `not json`, "malformed JSON"},
		{"Empty", "/v1/auth/login", ``, "body is empty"},
		{"UnknownField", "/v1/auth/login", `{"login":"bo","password":"x","remember":true}`, "remember: unknown field"},
		{"NoLogin", "/v1/auth/login", `{"password":"x"}`, "login: is required"},
		{"NoPassword", "/v1/auth/login", `{"login":"bo"}`, "password: is required"},
		{"LongPassword", "/v1/auth/login", `{"login":"bo","password":"` + strings.Repeat("x", issue.MaxPasswordLen+1) + `"}`, "password: must be at most"},
		{"TwoNames", "/v1/auth/login", `{"login":"bo","username":"al","password":"x"}`, "username:"},
		{"RefreshGarbage", "/v1/auth/refresh", `{"refresh_token":`, "ends too early"},
		{"RefreshUnknownField", "/v1/auth/refresh", `{"token":"x"}`, "token: unknown field"},
		{"RefreshMissing", "/v1/auth/refresh", `{}`, "refresh_token: is required"},
		{"RefreshAPIKey", "/v1/auth/refresh", `{"refresh_token":"` + a.admin + `"}`, "refresh_token: must be a refresh token (agr_"},
		{"RefreshAccessToken", "/v1/auth/refresh", `{"refresh_token":"` + tok.AccessToken + `"}`, "refresh_token: must be a refresh token (agr_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := a.do(t, "POST", tt.path, "", tt.body)
			if body := decodeJSON[api.ErrorBody](t, w); w.Code != 400 || !strings.Contains(body.Description, tt.want) {
				t.Fatalf("%d %+v; want 400 mentioning %q", w.Code, body, tt.want)
			}
		})
	}
	if rows := a.auditRows(t, "user.login_failed"); len(rows) != 0 {
		t.Fatalf("bad requests wrote login_failed rows: %v", rows)
	}
}

func TestAPI_Refresh(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "ray")
	tok := a.mustLogin(t, "ray")
	w := a.do(t, "POST", "/v1/auth/refresh", tok.AccessToken, `{"refresh_token":"`+tok.RefreshToken+`"}`)
	next := decodeJSON[api.Tokens](t, w)
	if w.Code != 200 || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %s; want 200, a new refresh token, no-store", w.Code, w.Body)
	}
	a.now = a.now.Add(a.svc.Options().RefreshReuseGrace + time.Second)
	if w := a.do(t, "POST", "/v1/auth/refresh", "", `{"refresh_token":"`+tok.RefreshToken+`"}`); w.Code != 401 {
		t.Fatalf("reused token: %d %s; want 401", w.Code, w.Body)
	}
	// Reuse ended the session: its access tokens are refused too.
	if w := a.do(t, "GET", "/v1/me", next.AccessToken, ""); w.Code != 401 {
		t.Fatalf("access token of a session ended for reuse: %d; want 401", w.Code)
	}
}

func TestAPI_Logout(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "liam")
	one, two, three := a.mustLogin(t, "liam"), a.mustLogin(t, "liam"), a.mustLogin(t, "liam")

	if w := a.do(t, "POST", "/v1/auth/logout", "", ""); w.Code != 401 {
		t.Fatalf("logout without a token: %d; want 401", w.Code)
	}
	if w := a.do(t, "POST", "/v1/auth/logout", a.admin, ""); w.Code != 403 {
		t.Fatalf("logout with an API key: %d %s; want 403", w.Code, w.Body)
	}
	if w := a.do(t, "POST", "/v1/auth/logout", one.AccessToken, `{"everything":true}`); w.Code != 400 {
		t.Fatalf("logout with an unknown field: %d; want 400", w.Code)
	}
	if w := a.do(t, "POST", "/v1/auth/logout", one.AccessToken, ""); w.Code != 204 {
		t.Fatalf("logout: %d %s; want 204", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/me", one.AccessToken, ""); w.Code != 401 {
		t.Fatalf("access token after logout: %d; want 401", w.Code)
	}
	if _, err := a.refresh(one.RefreshToken); err == nil {
		t.Fatal("refresh token after logout still works")
	}
	if s := a.session(t, a.claims(t, one.AccessToken).SessionID); *s.RevokeReason != issue.ReasonLogout {
		t.Fatalf("session %+v; want revoked for logout", s)
	}
	if w := a.do(t, "GET", "/v1/me", two.AccessToken, ""); w.Code != 200 {
		t.Fatalf("another session after logout: %d; want it untouched", w.Code)
	}

	if w := a.do(t, "POST", "/v1/auth/logout", two.AccessToken, `{"all":true}`); w.Code != 204 {
		t.Fatalf("logout all: %d %s; want 204", w.Code, w.Body)
	}
	for _, tok := range []issue.Tokens{two, three} {
		if w := a.do(t, "GET", "/v1/me", tok.AccessToken, ""); w.Code != 401 {
			t.Fatalf("access token after logout all: %d; want 401", w.Code)
		}
		if _, err := a.refresh(tok.RefreshToken); err == nil {
			t.Fatal("refresh token after logout all still works")
		}
	}
	if rows := a.auditRows(t, "session.revoke"); len(rows) != 3 {
		t.Fatalf("session.revoke rows %v; want one per session", rows)
	}
}

func TestAPI_Me(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "mia", "viewer")
	tok := a.mustLogin(t, "mia")
	w := a.do(t, "GET", "/v1/me", tok.AccessToken, "")
	var me struct {
		ID, Username, Email string
		Roles, Permissions  []string
		SessionID           string `json:"session_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || w.Code != 200 {
		t.Fatalf("GET /v1/me: %d %s", w.Code, w.Body)
	}
	if me.ID != u.ID || me.Username != "mia" || !slices.Equal(me.Roles, []string{"viewer"}) ||
		!slices.Equal(me.Permissions, []string{"keys:read", "roles:read", "users:read"}) ||
		me.SessionID != a.claims(t, tok.AccessToken).SessionID {
		t.Fatalf("GET /v1/me: %s", w.Body)
	}
	if strings.Contains(w.Body.String(), "argon2") || strings.Contains(w.Body.String(), "password") {
		t.Fatalf("GET /v1/me shows the password hash: %s", w.Body)
	}
	if w := a.do(t, "GET", "/v1/me", a.admin, ""); w.Code != 403 || !strings.Contains(w.Body.String(), "for users") {
		t.Fatalf("GET /v1/me with an API key: %d %s; want 403 saying it is for users", w.Code, w.Body)
	}
	if w := a.do(t, "GET", "/v1/me", "", ""); w.Code != 401 {
		t.Fatalf("GET /v1/me anonymously: %d; want 401", w.Code)
	}
}

func TestAPI_MySessions(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "max")
	a.newUser(t, "eve")
	mine, other := a.mustLogin(t, "max"), a.mustLogin(t, "max")
	eves := a.claims(t, a.mustLogin(t, "eve").AccessToken).SessionID
	current, otherID := a.claims(t, mine.AccessToken).SessionID, a.claims(t, other.AccessToken).SessionID

	list := func() map[string]bool {
		t.Helper()
		w := a.do(t, "GET", "/v1/me/sessions", mine.AccessToken, "")
		page := decodeJSON[struct {
			Sessions []struct {
				ID      string `json:"id"`
				Current bool   `json:"current"`
			} `json:"sessions"`
		}](t, w)
		got := map[string]bool{}
		for _, s := range page.Sessions {
			got[s.ID] = s.Current
		}
		return got
	}
	if got := list(); len(got) != 2 || !got[current] || got[otherID] {
		t.Fatalf("sessions %v; want %s (current) and %s", got, current, otherID)
	}
	if w := a.do(t, "DELETE", "/v1/me/sessions/"+eves, mine.AccessToken, ""); w.Code != 404 {
		t.Fatalf("ending another user's session: %d; want 404", w.Code)
	}
	if w := a.do(t, "DELETE", "/v1/me/sessions/ses_nope", mine.AccessToken, ""); w.Code != 404 {
		t.Fatalf("ending an unknown session: %d; want 404", w.Code)
	}
	if w := a.do(t, "DELETE", "/v1/me/sessions/"+otherID, mine.AccessToken, ""); w.Code != 204 {
		t.Fatalf("ending my other session: %d %s; want 204", w.Code, w.Body)
	}
	if got := list(); len(got) != 1 || !got[current] {
		t.Fatalf("sessions %v; want only the current one", got)
	}
	if s := a.session(t, eves); s.RevokedAt != nil {
		t.Fatal("another user's session was ended")
	}
	if w := a.do(t, "GET", "/v1/me/sessions", a.admin, ""); w.Code != 403 {
		t.Fatalf("GET /v1/me/sessions with an API key: %d; want 403", w.Code)
	}
}

func TestAPI_UserSessions(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "uma")
	a.newUser(t, "vic", "viewer") // users:read, not sessions:write
	a.mustLogin(t, "uma")
	a.mustLogin(t, "uma")
	viewer := a.mustLogin(t, "vic").AccessToken

	w := a.do(t, "GET", "/v1/users/"+u.ID+"/sessions", viewer, "")
	page := decodeJSON[api.SessionPage](t, w)
	if w.Code != 200 || len(page.Sessions) != 2 || page.Sessions[0].UserID != u.ID {
		t.Fatalf("GET sessions with users:read: %d %s; want 2 sessions", w.Code, w.Body)
	}
	if w := a.do(t, "DELETE", "/v1/users/"+u.ID+"/sessions", viewer, ""); w.Code != 403 {
		t.Fatalf("DELETE sessions without sessions:write: %d; want 403", w.Code)
	}
	if w := a.do(t, "GET", "/v1/users/usr_nope/sessions", a.admin, ""); w.Code != 404 {
		t.Fatalf("sessions of an unknown user: %d; want 404", w.Code)
	}
	w = a.do(t, "DELETE", "/v1/users/"+u.ID+"/sessions", a.admin, "")
	revoked := decodeJSON[struct {
		Revoked []string `json:"revoked"`
	}](t, w)
	if w.Code != 200 || len(revoked.Revoked) != 2 {
		t.Fatalf("DELETE sessions: %d %s; want both revoked", w.Code, w.Body)
	}
	live, err := a.svc.Sessions(context.Background(), u.ID)
	if err != nil || len(live) != 0 {
		t.Fatalf("live sessions after revoking all: %v, %v; want none", live, err)
	}
	for _, m := range a.auditRows(t, "session.revoke") {
		if m["reason"] != issue.ReasonRevoked || !strings.HasPrefix(m["_actor"].(string), "key:") {
			t.Fatalf("session.revoke row %v; want reason revoked, by the admin key", m)
		}
	}
}
