package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/verify"
)

// stack is one shipped proxy configuration running in front of authgate and
// the recording upstream, with keys for its routes.
type stack struct {
	addr   string // the proxy
	ag     *authgate
	up     *upstream
	events createdKey // scope events:read
	camera createdKey // scope cameras:stream
}

func startStack(t *testing.T, p proxy, bin string) *stack {
	t.Helper()
	s := &stack{ag: startAuthgate(t), up: startUpstream(t)}
	s.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	args, env := p.configure(t, dir, addresses{listen: s.addr, authgate: s.ag.addr, upstream: s.up.addr})
	proc := start(t, p.name, dir, env, bin, args...)
	waitPort(t, proc, s.addr)
	// Listening is not ready: Traefik loads its routes a moment later. Wait
	// until the open route reaches the app.
	ready := waitFor(context.Background(), 20*time.Second, func() bool {
		return send(t, s.addr, "GET", "/public/"+uniqueTag("ready"), nil, "").fromUpstream()
	})
	if !ready {
		t.Fatalf("%s did not route /public/ to the app within 20 s", p.name)
	}
	s.events = s.ag.createKey(t, "events reader", "events:read")
	s.camera = s.ag.createKey(t, "camera kiosk", "cameras:stream")
	return s
}

// send sends one request through the proxy.
func (s *stack) send(t *testing.T, method, target string, header http.Header, body string) *response {
	t.Helper()
	return send(t, s.addr, method, target, header, body)
}

func apiKey(k createdKey) http.Header { return http.Header{"X-Api-Key": {k.Key}} }

// allowed fails unless the upstream answered and received tag with the
// identity of key k.
func (s *stack) allowed(t *testing.T, r *response, tag string, k createdKey, scopes string) {
	t.Helper()
	if r.status/100 != 2 && r.status != http.StatusSwitchingProtocols || !r.fromUpstream() {
		t.Fatalf("got %s; want the upstream's answer", r)
	}
	h := s.up.saw(tag)
	if h == nil {
		t.Fatalf("the upstream never received %s", tag)
	}
	want := map[string]string{
		verify.HeaderSubject: k.ID, verify.HeaderKind: "api_key", verify.HeaderKeyID: k.ID,
		verify.HeaderScopes: scopes,
	}
	for name, v := range want {
		if got := h.Values(name); len(got) != 1 || got[0] != v {
			t.Errorf("upstream got %s %q; want %q", name, got, v)
		}
	}
	if h.Get(verify.HeaderKeyName) == "" {
		t.Errorf("upstream got no %s", verify.HeaderKeyName)
	}
}

// denied fails unless the client got one of the statuses and the upstream
// never saw the request.
func (s *stack) denied(t *testing.T, r *response, tag string, statuses ...int) {
	t.Helper()
	ok := false
	for _, st := range statuses {
		ok = ok || r.status == st
	}
	if !ok || r.fromUpstream() {
		t.Errorf("got %s; want status %v, not from the upstream", r, statuses)
	}
	if h := s.up.saw(tag); h != nil {
		t.Errorf("the upstream received %s: %v", tag, h)
	}
}

// forgedIdentity is what a client might send hoping the upstream trusts it.
func forgedIdentity() http.Header {
	h := http.Header{}
	for _, name := range verify.IdentityHeaders {
		h[name] = []string{"forged"}
		h[strings.ReplaceAll(name, "-", "_")] = []string{"forged"}
	}
	return h
}

// noForgedIdentity fails if any identity header, in either spelling, reached
// the upstream with the client's value.
func noForgedIdentity(t *testing.T, h http.Header) {
	t.Helper()
	for name, vals := range h {
		norm := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if !strings.HasPrefix(norm, "x-auth-") {
			continue
		}
		for _, v := range vals {
			if strings.Contains(v, "forged") {
				t.Errorf("the upstream received the client's %s: %q", name, v)
			}
		}
	}
}

func with(h http.Header, kv ...string) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	for i := 0; i < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}

func TestProxies(t *testing.T) {
	if testing.Short() {
		skipOrFail(t, "-short: TestProxies runs real proxies")
	}
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			bin := proxyBinary(t, p.name)
			s := startStack(t, p, bin)
			// Cases share the stack; AuthgateStopped stops authgate and so runs last.
			for _, c := range append(cases, pageCases...) {
				if c.only != "" && c.only != p.name {
					continue
				}
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
			t.Run("AuthgateStopped", func(t *testing.T) {
				s.ag.proc.stop()
				tag := uniqueTag("stopped")
				s.denied(t, s.send(t, "GET", "/events/"+tag, apiKey(s.events), ""), tag,
					http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable)
			})
		})
	}
	t.Run("traefik-encoded-slash-allowed", traefikEncodedSlashAllowed)
}

type testCase struct {
	name string
	only string // run only for this proxy
	run  func(t *testing.T, s *stack)
}

var cases = []testCase{
	{name: "NoCredential", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("none")
		r := s.send(t, "GET", "/events/"+tag, nil, "")
		s.denied(t, r, tag, http.StatusUnauthorized)
		if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], `Bearer realm="authgate"`) {
			t.Errorf("WWW-Authenticate %q; want the Bearer challenge, once", got)
		}
	}},
	{name: "WrongKey", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("wrong")
		bad := s.events.Key[:len(s.events.Key)-10] + "0000000000"
		r := s.send(t, "GET", "/events/"+tag, http.Header{"X-Api-Key": {bad}}, "")
		s.denied(t, r, tag, http.StatusUnauthorized)
	}},
	{name: "ValidKey", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("valid")
		s.allowed(t, s.send(t, "GET", "/events/"+tag+"?page=2", apiKey(s.events), ""), tag, s.events, "events:read")
	}},
	{name: "BearerOnCatchAll", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("bearer")
		r := s.send(t, "GET", "/anything/"+tag, http.Header{"Authorization": {"Bearer " + s.camera.Key}}, "")
		s.allowed(t, r, tag, s.camera, "cameras:stream")
	}},
	{name: "RateLimited", run: func(t *testing.T, s *stack) {
		// /export allows 10 a minute per credential, in bursts of 3: the fourth request at once
		// is refused with 429 and when to retry, whatever the proxy's convention (nginx turns
		// authgate's 403 with Retry-After into the 429); another key has a budget of its own.
		for range 3 {
			tag := uniqueTag("export")
			s.allowed(t, s.send(t, "GET", "/export/"+tag, apiKey(s.events), ""), tag, s.events, "events:read")
		}
		tag := uniqueTag("export-over")
		r := s.send(t, "GET", "/export/"+tag, apiKey(s.events), "")
		s.denied(t, r, tag, http.StatusTooManyRequests)
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" || r.header.Get("RateLimit-Policy") != `"route";q=3;w=18` ||
			!strings.HasPrefix(r.header.Get("RateLimit"), `"route";r=0;t=`) {
			t.Errorf("headers of the 429: %v", r.header)
		}
		other := s.ag.createKey(t, "second exporter", "events:read")
		tag = uniqueTag("export-other")
		s.allowed(t, s.send(t, "GET", "/export/"+tag, apiKey(other), ""), tag, other, "events:read")
	}},
	{name: "MissingScope", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("scope")
		s.denied(t, s.send(t, "GET", "/cameras/"+tag, apiKey(s.events), ""), tag, http.StatusForbidden)
	}},
	{name: "PrefixWithoutSlashKeepsItsScope", run: func(t *testing.T, s *stack) {
		// /events must not fall through to the catch-all, which needs no scope.
		// nginx answers a redirect to /events/ instead.
		r := s.send(t, "GET", "/events", apiKey(s.camera), "")
		if r.fromUpstream() {
			t.Errorf("got %s; /events reached the upstream with a key lacking events:read", r)
		}
	}},
	{name: "ForgedIdentityWithKey", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("forged-key")
		h := forgedIdentity()
		h.Set("X-Api-Key", s.events.Key)
		s.allowed(t, s.send(t, "GET", "/events/"+tag, h, ""), tag, s.events, "events:read")
		noForgedIdentity(t, s.up.saw(tag))
	}},
	{name: "ForgedIdentityWithoutKey", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("forged-none")
		s.denied(t, s.send(t, "GET", "/events/"+tag, forgedIdentity(), ""), tag, http.StatusUnauthorized)
	}},
	{name: "ForgedIdentityOnOpenRoute", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("forged-public")
		r := s.send(t, "GET", "/public/"+tag, forgedIdentity(), "")
		if r.status != http.StatusOK || !r.fromUpstream() {
			t.Fatalf("got %s; want the open route served", r)
		}
		noForgedIdentity(t, s.up.saw(tag))
	}},
	{name: "ForgedTargetHeaders", run: func(t *testing.T, s *stack) {
		// The client claims the request was one that would pass: an open path, GET,
		// and a query carrying a valid camera key. Only the real request counts.
		for _, h := range []http.Header{
			nil,
			apiKey(s.events),
		} {
			tag := uniqueTag("forged-target")
			forged := "/cameras/" + tag + "?access_token=" + s.camera.Key
			h = with(h,
				"X-Forwarded-Uri", forged, "X-Original-Uri", forged, "X-Original-Url", "http://x"+forged,
				"X-Forwarded-Method", "GET", "X-Original-Method", "GET",
				"X-Forwarded-Host", "forged.example", "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9")
			s.denied(t, s.send(t, "POST", "/cameras/"+tag, h, "x"), tag, http.StatusUnauthorized, http.StatusForbidden)
		}
	}},
	{name: "QueryTokenWhereOptedIn", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("query")
		s.allowed(t, s.send(t, "GET", "/cameras/"+tag+"?access_token="+s.camera.Key, nil, ""), tag, s.camera, "cameras:stream")
	}},
	{name: "QueryTokenElsewhereIgnored", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("query-no")
		s.denied(t, s.send(t, "GET", "/events/"+tag+"?access_token="+s.events.Key, nil, ""), tag, http.StatusUnauthorized)
	}},
	{name: "PathConfusion", run: func(t *testing.T, s *stack) {
		// Each path routes, once normalised, to /cameras/: a key without
		// cameras:stream must not get through via the open /public/ route or the
		// catch-all. A proxy may also refuse the path itself (400).
		for _, p := range []string{"/public/../cameras/", "//cameras/", "/./cameras/", "/x/../cameras//"} {
			tag := uniqueTag("path")
			withKey := s.send(t, "GET", p+tag, apiKey(s.events), "")
			s.denied(t, withKey, tag, http.StatusForbidden, http.StatusBadRequest, http.StatusNotFound)
			tag = uniqueTag("path-none")
			without := s.send(t, "GET", p+tag, nil, "")
			s.denied(t, without, tag, http.StatusUnauthorized, http.StatusBadRequest, http.StatusNotFound)
			t.Logf("%-26s with a key lacking the scope: %d, without a key: %d", p, withKey.status, without.status)
		}
	}},
	{name: "PathEncodedDotSegment", run: func(t *testing.T, s *stack) {
		// A . or .. that only decoding makes, above the root or not. Proxies and
		// apps disagree on where it leads (/events/..%2Fcameras/ is /events/ to a
		// Traefik allowing encoded slashes, /cameras/ to nginx and Caddy), so
		// authgate refuses it whatever the key (403 invalid_path); nginx and the
		// shipped Traefik refuse some themselves (400), and Traefik decodes %2e
		// before routing. Whatever passes must reach the app resolved, to
		// /cameras/, with the key that route needs.
		for _, p := range []string{"/public/%2e%2e/cameras/", "/public/%2E%2E/cameras/", "/public/..%2fcameras/",
			"/events/..%2Fcameras/", "/x/.%2e/cameras/", "/%2e%2e/cameras/", "/cameras/%2e%2e/%2e%2e/cameras/"} {
			var statuses []int
			for _, h := range []http.Header{apiKey(s.camera), apiKey(s.events), nil} {
				tag := uniqueTag("encoded-dots")
				r := s.send(t, "GET", p+tag, h, "")
				statuses = append(statuses, r.status)
				switch {
				case r.fromUpstream():
					s.allowed(t, r, tag, s.camera, "cameras:stream")
					if got, want := s.up.uri(tag), "/cameras/"+tag; got != want {
						t.Errorf("the app received %q; want %q, the path the proxy routed on", got, want)
					}
				case h == nil:
					s.denied(t, r, tag, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
				default:
					s.denied(t, r, tag, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound)
				}
			}
			t.Logf("%-34s camera key: %d, events key: %d, no key: %d", p, statuses[0], statuses[1], statuses[2])
		}
	}},
	{name: "PostWithBody", run: func(t *testing.T, s *stack) {
		tag := uniqueTag("post")
		body := `{"event":"door"}`
		s.allowed(t, s.send(t, "POST", "/events/"+tag, with(apiKey(s.events), "Content-Type", "application/json"), body),
			tag, s.events, "events:read")
		tag = uniqueTag("post-none")
		s.denied(t, s.send(t, "POST", "/events/"+tag, nil, body), tag, http.StatusUnauthorized)
	}},
	{name: "WebSocketUpgrade", run: func(t *testing.T, s *stack) {
		ws := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"}}
		tag := uniqueTag("ws")
		r := s.send(t, "GET", "/events/"+tag, with(ws, "X-Api-Key", s.events.Key), "")
		if r.status != http.StatusSwitchingProtocols {
			t.Fatalf("got %s; want 101 from the upstream", r)
		}
		s.allowed(t, r, tag, s.events, "events:read")
		tag = uniqueTag("ws-none")
		s.denied(t, s.send(t, "GET", "/events/"+tag, ws, ""), tag, http.StatusUnauthorized)
	}},
	{name: "HeadAndOptions", run: func(t *testing.T, s *stack) {
		for _, m := range []string{"HEAD", "OPTIONS"} {
			tag := uniqueTag(m)
			s.allowed(t, s.send(t, m, "/events/"+tag, apiKey(s.events), ""), tag, s.events, "events:read")
			tag = uniqueTag(m + "-none")
			s.denied(t, s.send(t, m, "/events/"+tag, nil, ""), tag, http.StatusUnauthorized)
		}
	}},
	{name: "UserAccessToken", run: func(t *testing.T, s *stack) {
		// A person: a role holding events:read, a login, the access token through the proxy.
		user := uniqueTag("alice")
		for _, step := range []struct{ method, path string }{
			{"POST", "/v1/permissions"}, {"POST", "/v1/roles"}, {"PUT", "/v1/roles/family/permissions/events:read"},
		} {
			body := map[string]any{}
			switch step.path {
			case "/v1/permissions":
				body["name"] = "events:read"
			case "/v1/roles":
				body["name"] = "family"
			}
			s.ag.api(t, step.method, step.path, body, nil)
		}
		s.ag.api(t, "POST", "/v1/users", map[string]any{"username": user, "email": user + "@example.com",
			"password": "correct horse battery staple", "roles": []string{"family"}}, nil)
		var tk struct {
			Access string `json:"access_token"`
		}
		s.ag.api(t, "POST", "/v1/auth/login", map[string]any{"login": user, "password": "correct horse battery staple"}, &tk)
		bearer := http.Header{"Authorization": {"Bearer " + tk.Access}}

		tag := uniqueTag("jwt")
		r := s.send(t, "GET", "/events/"+tag, bearer, "")
		if r.status != http.StatusOK || !r.fromUpstream() {
			t.Fatalf("got %s; want the upstream's answer", r)
		}
		h := s.up.saw(tag)
		for name, want := range map[string]string{verify.HeaderKind: "jwt", verify.HeaderUser: user,
			verify.HeaderEmail: user + "@example.com", verify.HeaderRoles: "family", verify.HeaderKeyID: ""} {
			if got := h.Values(name); len(got) > 1 || h.Get(name) != want {
				t.Errorf("upstream got %s %q; want %q", name, got, want)
			}
		}
		tag = uniqueTag("jwt-scope")
		s.denied(t, s.send(t, "GET", "/cameras/"+tag, bearer, ""), tag, http.StatusForbidden)

		// Logging out denies the token through the proxy.
		req, _ := http.NewRequest("POST", "http://"+s.ag.addr+"/v1/auth/logout", nil)
		req.Header = bearer.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %v %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		denied := waitFor(context.Background(), 10*time.Second, func() bool {
			return s.send(t, "GET", "/events/"+uniqueTag("jwt-poll"), bearer, "").status == http.StatusUnauthorized
		})
		if !denied {
			t.Fatal("the logged-out token still passed the proxy after 10 s")
		}
	}},
	{name: "RevokedKeyDeniedWithinBound", run: func(t *testing.T, s *stack) {
		k := s.ag.createKey(t, "soon revoked", "events:read")
		tag := uniqueTag("revoke")
		s.allowed(t, s.send(t, "GET", "/events/"+tag, apiKey(k), ""), tag, k, "events:read")
		s.ag.api(t, http.MethodPost, "/v1/keys/"+k.ID+"/revoke", map[string]any{}, nil)
		revoked := time.Now()
		// The documented bound is the cache TTL (10 s) when change notices are
		// lost; with them, well under a second.
		denied := waitFor(context.Background(), 10*time.Second, func() bool {
			return s.send(t, "GET", "/events/"+uniqueTag("revoke-poll"), apiKey(k), "").status == http.StatusUnauthorized
		})
		if !denied {
			t.Fatal("the revoked key still passed the proxy after 10 s")
		}
		t.Logf("revoked key denied through the proxy after %v", time.Since(revoked).Round(time.Millisecond))
	}},
}

func TestMain(m *testing.M) {
	code := m.Run()
	if authgatePath != "" {
		os.RemoveAll(strings.TrimSuffix(authgatePath, "/authgate"))
	}
	os.Exit(code)
}
