package issue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/issue"
)

// deviceID returns an access token's device_id claim, and whether it has one.
func (a *apiBundle) deviceID(t *testing.T, token string) (string, bool) {
	t.Helper()
	c := jwt.MapClaims{}
	if _, err := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return a.now })).ParseWithClaims(token, c,
		func(*jwt.Token) (any, error) { return a.signer.secret, nil }); err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	id, ok := c["device_id"].(string)
	return id, ok
}

func TestService_Login_DeviceID(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "dev")
	login := func(device string) issue.Tokens {
		t.Helper()
		tok, err := a.svc.Login(context.Background(), issue.LoginRequest{Login: "dev", Password: "password-of-dev", DeviceName: device}, a.by)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := login("kitchen-tablet")
	if got, ok := a.deviceID(t, tok.AccessToken); !ok || got != "kitchen-tablet" {
		t.Fatalf("device_id %q (present %v); want kitchen-tablet", got, ok)
	}
	if s := a.session(t, a.claims(t, tok.AccessToken).SessionID); s.Kind != issue.SessionAPI || s.DeviceName != "kitchen-tablet" {
		t.Fatalf("session %+v; want an API session named kitchen-tablet", s)
	}
	next, err := a.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.deviceID(t, next.AccessToken); got != "kitchen-tablet" {
		t.Fatalf("after a refresh: device_id %q; want kitchen-tablet still", got)
	}
	if got, ok := a.deviceID(t, login("").AccessToken); ok {
		t.Fatalf("no device name: device_id %q; want no such claim", got)
	}
}

func TestService_DeviceNameValidation(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "val")
	for _, tt := range []struct {
		name, device string
		ok           bool
	}{
		{"Empty", "", true},
		{"Plain", "Chrome on Linux", true},
		{"HundredCharacters", strings.Repeat("é", 100), true},
		{"TooLong", strings.Repeat("x", 101), false},
		{"Newline", "my\nphone", false},
		{"NUL", "phone\x00", false},
		{"InvalidUTF8", "phone\xff", false},
	} {
		for _, way := range []struct {
			name string
			call func(issue.LoginRequest) error
		}{
			{"Login", func(in issue.LoginRequest) error { _, err := a.svc.Login(context.Background(), in, a.by); return err }},
			{"SignIn", func(in issue.LoginRequest) error {
				_, err := a.svc.SignIn(context.Background(), "home.example", in, a.by)
				return err
			}},
		} {
			t.Run(tt.name+"/"+way.name, func(t *testing.T) {
				err := way.call(issue.LoginRequest{Login: "val", Password: "password-of-val", DeviceName: tt.device})
				var fe *issue.FieldError
				if tt.ok && err != nil || !tt.ok && (!errors.As(err, &fe) || fe.Field != "device_name") {
					t.Fatalf("got %v; want ok %v, or else a *FieldError naming device_name", err, tt.ok)
				}
			})
		}
	}
}

func TestAPI_Login_DeviceName(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "ada")
	w := a.do(t, "POST", "/v1/auth/login", "", `{"login":"ada","password":"password-of-ada","device_name":"hall panel"}`)
	if w.Code != 200 {
		t.Fatalf("login: %d %s; want 200", w.Code, w.Body)
	}
	tok := decodeJSON[struct {
		AccessToken string `json:"access_token"`
	}](t, w)
	if got, _ := a.deviceID(t, tok.AccessToken); got != "hall panel" {
		t.Fatalf("device_id %q; want hall panel", got)
	}
	a.now = a.now.Add(time.Second) // oldest first
	a.mustSignIn(t, "ada", false)
	w = a.do(t, "GET", "/v1/me/sessions", tok.AccessToken, "")
	page := decodeJSON[struct {
		Sessions []map[string]any `json:"sessions"`
	}](t, w)
	if w.Code != 200 || len(page.Sessions) != 2 {
		t.Fatalf("sessions: %d %s; want 200 and two", w.Code, w.Body)
	}
	api, browser := page.Sessions[0], page.Sessions[1]
	if api["kind"] != "api" || api["device_name"] != "hall panel" || api["last_seen_at"] == nil || api["current"] != true ||
		browser["kind"] != "browser" || browser["device_name"] != "Firefox on Linux" || browser["current"] != false {
		t.Fatalf("sessions %v; want the API one (current) and the browser one, with kind, device_name, last_seen_at", page.Sessions)
	}
	w = a.do(t, "POST", "/v1/auth/login", "", `{"login":"ada","password":"password-of-ada","device_name":"`+strings.Repeat("x", 101)+`"}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "device_name") {
		t.Fatalf("too long a device name: %d %s; want 400 naming device_name", w.Code, w.Body)
	}
}
