package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
)

// waitStatus polls check until it answers want, failing after the documented bound.
func waitStatus(t *testing.T, what string, want int, check func() int) {
	t.Helper()
	start, bound := time.Now(), 10*time.Second
	for {
		got := check()
		if got == want {
			t.Logf("%s reached the other instance after %v (bound %v)", what, time.Since(start).Round(time.Microsecond), bound)
			return
		}
		if time.Since(start) > bound {
			t.Fatalf("after %s, the other instance still answered %d after %v; want %d", what, got, bound, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestMain_PersonalTokenLifecycleAcrossInstances(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	a, b := client{t, startMain(t, env).URL()}, client{t, startMain(t, env).URL()}
	alice := createAlice(t, env, a, admin)
	for _, step := range [][3]string{
		{"POST", "/v1/permissions", `{"name":"cameras:stream"}`},
		{"POST", "/v1/roles", `{"name":"family"}`},
		{"PUT", "/v1/roles/family/permissions/cameras:stream", ""},
		{"PUT", "/v1/users/" + alice + "/roles/family", ""},
	} {
		if code, _, body := a.call(step[0], step[1], admin, step[2]); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", step[0], step[1], code, body)
		}
	}
	_, tk := a.login("alice", alicePassword)
	bearer := []string{"Authorization", "Bearer " + tk.Access}

	// Bad requests store nothing; the life is capped at 365 days.
	for _, body := range []string{
		`{"name":"kiosk","scopes":["cameras:stream"],"expires_in_days":366}`,
		`{"name":"kiosk","scopes":["cameras:stream"],"expires_in_days":0}`,
		`{"name":"kiosk","scopes":["cameras:stream"]}`,
		`{"name":"kiosk","scopes":["keys:write"],"expires_in_days":30}`,
	} {
		if code, _, resp := a.call("POST", "/v1/me/tokens", "", body, bearer...); code/100 != 4 {
			t.Errorf("create %s: %d %s; want a 4xx", body, code, resp)
		}
	}
	code, _, body := a.call("POST", "/v1/me/tokens", "", `{"name":"hall tablet","scopes":["cameras:stream"],"expires_in_days":90}`, bearer...)
	var tok struct{ ID, Token string }
	if code != 201 || json.Unmarshal(body, &tok) != nil || !strings.HasPrefix(tok.Token, "agp_") {
		t.Fatalf("create token: %d %s", code, body)
	}
	if _, _, list := a.call("GET", "/v1/me/tokens", "", "", bearer...); strings.Contains(string(list), tok.Token[16:]) {
		t.Fatal("the token list shows the secret")
	}

	// On the other instance: as a header, and in the URL where the route opts in only.
	stream := func(c client, query string, headers ...string) int {
		h := append([]string{"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https",
			"X-Forwarded-Host", "home.example", "X-Forwarded-Uri", "/cameras/front.mjpeg" + query}, headers...)
		code, _, _ := c.call("GET", "/forward-auth?scope=cameras:stream&query_token=access_token", "", "", h...)
		return code
	}
	code, h, _ := b.call("GET", "/auth-request?scope=cameras:stream", tok.Token, "",
		"X-Original-Method", "GET", "X-Original-URI", "/cameras/front.mjpeg")
	if code != 200 || h.Get("X-Auth-Kind") != "token" || h.Get("X-Auth-User") != "alice" || h.Get("X-Auth-Key-Id") != tok.ID {
		t.Fatalf("auth-request with the token: %d %v; want 200 as alice's token", code, h)
	}
	if got := stream(b, "?access_token="+tok.Token); got != 200 {
		t.Fatalf("token in the URL of an opted-in route: %d; want 200", got)
	}
	if code, _, _ := b.call("GET", "/forward-auth?scope=cameras:stream", "", "", "X-Forwarded-Method", "GET",
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "home.example",
		"X-Forwarded-Uri", "/cameras/front.mjpeg?access_token="+tok.Token); code != 401 {
		t.Errorf("token in the URL of a route that did not opt in: %d; want 401", code)
	}

	// Demoting Alice takes the scope from her token at once, everywhere.
	if code, _, body := a.call("DELETE", "/v1/users/"+alice+"/roles/family", admin, ""); code/100 != 2 {
		t.Fatalf("unassign: %d %s", code, body)
	}
	waitStatus(t, "the demotion", 403, func() int { return stream(b, "?access_token="+tok.Token) })
	if code, _, body := a.call("PUT", "/v1/users/"+alice+"/roles/family", admin, ""); code != 200 {
		t.Fatalf("assign again: %d %s", code, body)
	}
	waitStatus(t, "the promotion", 200, func() int { return stream(b, "?access_token="+tok.Token) })

	// Revoking it denies it on the other instance within the bound.
	if code, _, body := a.call("DELETE", "/v1/me/tokens/"+tok.ID, "", "", bearer...); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	waitStatus(t, "the revocation", 401, func() int { return stream(b, "?access_token="+tok.Token) })

	// Audit rows for both, with no secret in any row.
	code, _, audit := a.call("GET", "/v1/audit?resource_type=token", admin, "")
	if code != 200 || !strings.Contains(string(audit), `"token.create"`) || !strings.Contains(string(audit), `"token.revoke"`) {
		t.Fatalf("audit: %d %s; want token.create and token.revoke", code, audit)
	}
	_, _, all := a.call("GET", "/v1/audit?limit=200", admin, "")
	for _, secret := range []string{tok.Token[16:], alicePassword, tk.Access, tk.Refresh[16:]} {
		if strings.Contains(string(all), secret) {
			t.Errorf("a secret reached the audit log: %.12s…", secret)
		}
	}
}

func TestMain_StaticKeysFromTheEnvironment(t *testing.T) {
	const doorbell, tablet = "doorbell-key-0123456789", "tablet-key-abcdefghijkl"
	env := testEnv(dbtest.URL(t), "AUTHGATE_STATIC_KEYS",
		`["`+doorbell+`", {"key": "`+tablet+`", "name": "tablet", "scopes": ["cameras:stream"]}]`)
	var logs syncBuffer
	a := client{t, startMain(t, env, &logs).URL()}
	code, h, _ := a.call("GET", "/auth-request?scope=cameras:stream", tablet, "", "X-Original-Method", "GET", "X-Original-URI", "/cameras/x")
	if code != 200 || h.Get("X-Auth-Kind") != "static_key" || h.Get("X-Auth-Key-Name") != "tablet" {
		t.Fatalf("static key: %d %v; want 200 as the tablet's static key", code, h)
	}
	if code := a.authRequest(doorbell, "cameras:stream"); code != 403 {
		t.Errorf("static key without the scope: %d; want 403", code)
	}
	if code := a.authRequest(doorbell[:len(doorbell)-1]+"X", "cameras:stream"); code != 401 {
		t.Errorf("a near miss: %d; want 401", code)
	}
	for _, k := range []string{doorbell, tablet} {
		if strings.Contains(logs.String(), k) {
			t.Errorf("a static key reached the log")
		}
	}

	// A bad list stops the start with a message naming the variable and the entry, not the key.
	for _, list := range []string{"tiny-k3y," + doorbell, `["` + doorbell + `", {"key": "tiny-k3y"}]`, `["tiny-k3y"`} {
		cfg, err := LoadConfig(testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_STATIC_KEYS", list), true, true)
		if err == nil {
			h, _ := cfg.Hasher()
			_, err = cfg.StaticKeyset(h)
		}
		if err == nil || !strings.Contains(err.Error(), "AUTHGATE_STATIC_KEYS") || strings.Contains(err.Error(), "tiny-k3y") {
			t.Errorf("static keys %.20s…: %v; want an error naming AUTHGATE_STATIC_KEYS without the key", list, err)
		}
	}
}
