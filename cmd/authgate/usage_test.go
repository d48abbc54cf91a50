package main

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/verify"
)

// usageOf reads a usage route and sums its hours: the allowed answers and the
// denied ones by reason (the test may straddle an hour).
func (c client) usageOf(path string, headers ...string) (allowed int64, denied map[string]int64) {
	c.t.Helper()
	key := ""
	if len(headers) == 1 {
		key, headers = headers[0], nil
	}
	code, _, body := c.call("GET", path, key, "", headers...)
	var u struct {
		CredentialID string `json:"credential_id"`
		Usage        []struct {
			Allowed int64            `json:"allowed"`
			Denied  map[string]int64 `json:"denied"`
		} `json:"usage"`
	}
	if code != 200 || json.Unmarshal(body, &u) != nil {
		c.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	denied = map[string]int64{}
	for _, h := range u.Usage {
		allowed += h.Allowed
		for r, n := range h.Denied {
			denied[r] += n
		}
	}
	return allowed, denied
}

func TestMain_UsageCountsAllowsAndDenies(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	m := startMain(t, env)
	c := client{t, m.URL()}
	alice := createAlice(t, env, c, admin)
	for _, step := range [][3]string{
		{"POST", "/v1/permissions", `{"name":"cameras:stream"}`},
		{"POST", "/v1/roles", `{"name":"family"}`},
		{"PUT", "/v1/roles/family/permissions/cameras:stream", ""},
		{"PUT", "/v1/users/" + alice + "/roles/family", ""},
	} {
		if code, _, body := c.call(step[0], step[1], admin, step[2]); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", step[0], step[1], code, body)
		}
	}
	camID, cam := c.createKey(admin, `{"name":"cam","scopes":["cameras:stream"]}`)
	oldID, old := c.createKey(admin, `{"name":"old","scopes":["cameras:stream"]}`)
	if code, _, body := c.call("POST", "/v1/keys/"+oldID+"/revoke", admin, ""); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	_, tk := c.login("alice", alicePassword)
	bearer := []string{"Authorization", "Bearer " + tk.Access}
	code, _, body := c.call("POST", "/v1/me/tokens", "", `{"name":"tablet","scopes":["cameras:stream"],"expires_in_days":30}`, bearer...)
	var tok struct{ ID, Token string }
	if code != 201 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("create token: %d %s", code, body)
	}
	parsed, err := verify.ParseKey(verify.PrefixAPIKey, cam)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Secret = verify.NewKey(verify.PrefixAPIKey).Secret
	wrong := parsed.Reveal()

	// The script: what each answer must be, and how many times.
	for _, s := range []struct {
		name  string
		times int
		ask   func() int
		want  int
	}{
		{"CamAllowedNginx", 3, func() int { return c.authRequest(cam, "cameras:stream") }, 200},
		{"CamAllowedTraefik", 2, func() int { return c.forwardAuth(cam, "cameras:stream") }, 200},
		{"CamMissingScope", 2, func() int { return c.forwardAuth(cam, "keys:write") }, 403},
		{"CamWrongSecret", 1, func() int { return c.authRequest(wrong, "cameras:stream") }, 401},
		{"OldRevoked", 2, func() int { return c.authRequest(old, "cameras:stream") }, 401},
		{"TokenAllowed", 4, func() int { return c.authRequest(tok.Token, "cameras:stream") }, 200},
		{"TokenMissingScope", 1, func() int { return c.authRequest(tok.Token, "keys:read") }, 403},
		{"NoCredential", 2, func() int { return c.authRequest("", "cameras:stream") }, 401},
		{"UnknownKey", 1, func() int { return c.authRequest(verify.NewKey(verify.PrefixAPIKey).Reveal(), "cameras:stream") }, 401},
	} {
		for range s.times {
			if got := s.ask(); got != s.want {
				t.Fatalf("%s: %d; want %d", s.name, got, s.want)
			}
		}
	}
	if err := m.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	for _, r := range []struct {
		name        string
		path        string
		cred        []string
		wantAllowed int64
		wantDenied  map[string]int64
	}{
		{"Cam", "/v1/keys/" + camID + "/usage", []string{admin}, 5, map[string]int64{"missing_scope": 2, "wrong_secret": 1}},
		{"Old", "/v1/keys/" + oldID + "/usage", []string{admin}, 0, map[string]int64{"revoked": 2}},
		{"TokenByOwner", "/v1/me/tokens/" + tok.ID + "/usage", bearer, 4, map[string]int64{"missing_scope": 1}},
		{"TokenByAdmin", "/v1/users/" + alice + "/tokens/" + tok.ID + "/usage", []string{admin}, 4, map[string]int64{"missing_scope": 1}},
	} {
		t.Run(r.name, func(t *testing.T) {
			allowed, denied := c.usageOf(r.path, r.cred...)
			if allowed != r.wantAllowed || !maps.Equal(denied, r.wantDenied) {
				t.Errorf("allowed %d, denied %v; want %d, %v", allowed, denied, r.wantAllowed, r.wantDenied)
			}
		})
	}

	// More answers after a flush add to the stored counts; the last ones are
	// written when the server stops.
	for range 3 {
		if got := c.authRequest(cam, "cameras:stream"); got != 200 {
			t.Fatalf("allow after the flush: %d", got)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	c = client{t, startMain(t, env).URL()}
	if allowed, _ := c.usageOf("/v1/keys/"+camID+"/usage", admin); allowed != 8 {
		t.Errorf("cam allowed %d after the first server stopped; want 8 (its final flush wrote the last 3)", allowed)
	}
	if code, _, body := c.call("GET", "/v1/keys/"+camID+"/usage?since=nope", admin, ""); code != 400 || !strings.Contains(string(body), "since") {
		t.Errorf("bad since: %d %s; want a 400 naming since", code, body)
	}
}
