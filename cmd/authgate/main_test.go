package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue/api/apitest"
	"github.com/authgate/authgate/verify"
)

const testSecret = "test-secret-0123456789abcdef-0123456789"

func testEnv(dbURL string, extra ...string) map[string]string {
	env := map[string]string{"DATABASE_URL": dbURL, "AUTHGATE_SECRET": testSecret, "AUTHGATE_ADDR": "127.0.0.1:0"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// startMain runs an authgate instance until the test ends, logging to logs
// (at debug level) when given.
func startMain(t *testing.T, env map[string]string, logs ...io.Writer) *Main {
	t.Helper()
	return startMainAt(t, env, nil, logs...)
}

// startMainAt is startMain on the clock now (nil: the wall clock).
func startMainAt(t *testing.T, env map[string]string, now func() time.Time, logs ...io.Writer) *Main {
	t.Helper()
	cfg, err := LoadConfig(env, true, true)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if len(logs) > 0 {
		log = newLogger(logs[0], slog.LevelDebug)
	}
	m, err := Start(context.Background(), cfg, log, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// bootstrap creates an admin key through the CLI, as make run does.
func bootstrap(t *testing.T, env map[string]string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "create", "--name", "admin", "--scope", "authgate:admin", "--if-none"},
		env, nil, &out, &errOut); code != 0 {
		t.Fatalf("keys create exited %d: %s", code, errOut.String())
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "agk_") || strings.Contains(errOut.String(), key) {
		t.Fatalf("keys create printed %q (stderr %q); want the key on stdout only", key, errOut.String())
	}
	return key
}

type client struct {
	t    *testing.T
	base string
}

func (c client) call(method, path, key, body string, headers ...string) (int, http.Header, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := apitest.CheckResponse(resp, b); err != nil {
		c.t.Errorf("answer does not match openapi.json: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}

// createKey makes a key over the API and returns its id and secret.
func (c client) createKey(admin, body string) (id, secret string) {
	c.t.Helper()
	code, _, b := c.call("POST", "/v1/keys", admin, body)
	var k struct{ ID, Key string }
	if code != 201 || json.Unmarshal(b, &k) != nil {
		c.t.Fatalf("create key: %d %s", code, b)
	}
	return k.ID, k.Key
}

// forwardAuth asks as Traefik would, and returns the status.
func (c client) forwardAuth(key, scope string) int {
	c.t.Helper()
	code, _, _ := c.call("GET", "/forward-auth?scope="+scope, key, "",
		"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example",
		"X-Forwarded-Uri", "/events")
	return code
}

// authRequest asks as nginx would, and returns the status.
func (c client) authRequest(key, scope string) int {
	c.t.Helper()
	code, _, _ := c.call("GET", "/auth-request?scope="+scope, key, "", "X-Original-Method", "GET", "X-Original-URI", "/events")
	return code
}

func TestMain_RevocationReachesEveryInstance(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	var logs syncBuffer
	a, b := client{t, startMain(t, env, &logs).URL()}, client{t, startMain(t, env, &logs).URL()}
	defer assertNoSecrets(t, &logs, &admin)

	id, key := a.createKey(admin, `{"name":"cam","scopes":["events:read"]}`)
	defer assertNoSecrets(t, &logs, &key)
	// A guess at the secret: well formed, right lookup id, so it reaches the MAC
	// comparison and the "wrong secret" log line.
	guess, _ := verify.ParseKey(verify.PrefixAPIKey, key)
	guess.Secret = verify.NewKey(verify.PrefixAPIKey).Secret
	wrong := guess.Reveal()
	if code := a.forwardAuth(wrong, "events:read"); code != 401 {
		t.Fatalf("forward-auth with a guessed secret: %d; want 401", code)
	}
	defer assertNoSecrets(t, &logs, &wrong)
	for _, c := range []client{a, b} {
		if code := c.forwardAuth(key, "events:read"); code != 200 {
			t.Fatalf("forward-auth with a fresh key: %d; want 200", code)
		}
		if code := c.authRequest(key, "events:read"); code != 200 {
			t.Fatalf("auth-request with a fresh key: %d; want 200", code)
		}
		if code := c.forwardAuth(key, "events:write"); code != 403 {
			t.Fatalf("forward-auth without the scope: %d; want 403", code)
		}
	}
	// Both instances now hold the key in their caches. Revoke it through A.
	if code, _, body := a.call("POST", "/v1/keys/"+id+"/revoke", admin, ""); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	start := time.Now()
	bound := 10 * time.Second // AUTHGATE_CACHE_TTL: the documented bound
	// A learns of its own revoke the same way B does, through the announcement,
	// so both are polled: neither may allow the key past the bound.
	for name, c := range map[string]client{"A": a, "B": b} {
		for c.authRequest(key, "events:read") != 401 {
			if time.Since(start) > bound {
				t.Fatalf("instance %s still allowed the revoked key after %v", name, bound)
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Logf("revocation reached instance %s after %v (bound %v)", name, time.Since(start), bound)
	}
}

// assertNoSecrets fails the test if the secret part of *key appears in logs.
// It takes a pointer so it can be deferred before the key is known.
func assertNoSecrets(t *testing.T, logs *syncBuffer, key *string) {
	t.Helper()
	text := logs.String()
	if !strings.Contains(text, `"reason":"wrong secret"`) || !strings.Contains(text, `"msg":"request"`) {
		t.Fatalf("the log holds no deny or request line; the scan would prove nothing:\n%s", text)
	}
	if secret := (*key)[len("agk_")+12:]; strings.Contains(text, secret) {
		t.Fatalf("a key's secret reached the log")
	}
}

// syncBuffer is a bytes.Buffer that instances may log to concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// clock is a test's clock: the wall clock's time at its start, moved only by
// advance, safe for concurrent use.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestMain_RotationGrace(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	var clk clock
	c := client{t, startMainAt(t, env, clk.now).URL()}
	id, old := c.createKey(admin, `{"name":"ci","scopes":["deploy:write"]}`)
	c.forwardAuth(old, "deploy:write") // cached before the rotation

	code, _, body := c.call("POST", "/v1/keys/"+id+"/rotate", admin, `{"grace_seconds":1}`)
	var nk struct{ Key string }
	if code != 201 || json.Unmarshal(body, &nk) != nil {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if a, b := c.forwardAuth(old, "deploy:write"), c.forwardAuth(nk.Key, "deploy:write"); a != 200 || b != 200 {
		t.Fatalf("during the grace period: old %d, new %d; want both 200", a, b)
	}
	clk.advance(1100 * time.Millisecond)
	// The old key may still be cached as it was before the rotation until the
	// announcement arrives (milliseconds; more on a loaded machine): poll within
	// the documented bound rather than race it.
	start, bound := time.Now(), 10*time.Second
	for c.forwardAuth(old, "deploy:write") != 401 {
		if time.Since(start) > bound {
			t.Fatalf("after the grace period the old key is still allowed after %v; want 401", bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b := c.forwardAuth(nk.Key, "deploy:write"); b != 200 {
		t.Fatalf("after the grace period: new key %d; want 200", b)
	}
}

func TestMain_DatabaseDownFailsClosed(t *testing.T) {
	dbURL := dbtest.URL(t)
	proxy := startTCPProxy(t, dbURL)
	env := testEnv(proxy.url, "AUTHGATE_CACHE_TTL", "1s")
	admin := bootstrap(t, env)
	var clk clock
	c := client{t, startMainAt(t, env, clk.now).URL()}
	_, cached := c.createKey(admin, `{"name":"cached","scopes":["s"]}`)
	_, cold := c.createKey(admin, `{"name":"cold","scopes":["s"]}`)
	if code := c.forwardAuth(cached, "s"); code != 200 {
		t.Fatalf("before the outage: %d", code)
	}
	proxy.cut()

	// Anything that needs the database is a 5xx. (That a cached key keeps working
	// until its TTL is checked with an injected clock in verify's
	// TestVerifier_StoreFailureFailsClosed: here a late NOTIFY from the key's own
	// creation may legitimately have evicted it.)
	if code := c.forwardAuth(cached, "s"); code != 200 && code != 500 {
		t.Fatalf("a cached key during the outage: %d; want 200 (cached) or 500", code)
	}
	if code := c.forwardAuth(cold, "s"); code != 500 {
		t.Fatalf("an uncached key during the outage (forward-auth): %d; want 500", code)
	}
	if code := c.authRequest(cold, "s"); code != 500 {
		t.Fatalf("an uncached key during the outage (auth-request): %d; want 500", code)
	}
	if code, _, _ := c.call("GET", "/readyz", "", ""); code != 503 {
		t.Fatalf("/readyz during the outage: %d; want 503", code)
	}
	if code, _, _ := c.call("GET", "/healthz", "", ""); code != 200 {
		t.Fatalf("/healthz during the outage: %d; want 200 (the process is alive)", code)
	}
	clk.advance(1100 * time.Millisecond) // past the cache TTL
	for _, code := range []int{c.forwardAuth(cached, "s"), c.authRequest(cached, "s")} {
		if code != 500 {
			t.Fatalf("the cached key past its TTL during the outage: %d; want 500, never an allow", code)
		}
	}
	if code, _, _ := c.call("GET", "/v1/keys", admin, ""); code != 500 {
		t.Fatalf("the management API during the outage: %d; want 500", code)
	}
}

func TestRun_ConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"NoDatabase", []string{"serve"}, map[string]string{"AUTHGATE_SECRET": testSecret}, "DATABASE_URL is not set"},
		{"NoSecret", []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/x"}, "AUTHGATE_SECRET must be at least 32 characters"},
		{"BadTTL", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_CACHE_TTL", "ten"), "AUTHGATE_CACHE_TTL is not a valid duration"},
		{"UnknownCommand", []string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{"KeysWithoutCreate", []string{"keys"}, nil, "authgate keys create --name NAME"},
		{"KeysUnknown", []string{"keys", "delete"}, nil, "unknown command 'keys delete'"},
		{"KeysRevokeWithoutID", []string{"keys", "revoke"}, nil, "usage: authgate keys revoke ID"},
		{"StrayArgument", []string{"keys", "create", "--name", "a", "events:read"}, nil, "scopes go in --scope"},
		{"UnknownJWTAlg", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_JWT_ALG", "RS256"), "AUTHGATE_JWT_ALG must be ES256, EdDSA or HS256"},
		{"HS256WithoutSecret", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_JWT_ALG", "HS256"), "AUTHGATE_JWT_HS256_SECRET must be at least 32 characters"},
		{"HS256SecretWithES256", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_JWT_HS256_SECRET", testSecret), "AUTHGATE_JWT_HS256_SECRET is set but AUTHGATE_JWT_ALG is ES256"},
		{"AccessTTLTooLong", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_ACCESS_TTL", "2h"), "AUTHGATE_ACCESS_TTL must be between 1m and 1h"},
		{"IdleShorterThanAccess", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_REFRESH_IDLE_TTL", "5m"), "AUTHGATE_REFRESH_IDLE_TTL must be at least AUTHGATE_ACCESS_TTL"},
		{"TinyPasswords", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_PASSWORD_MIN_LENGTH", "4"), "AUTHGATE_PASSWORD_MIN_LENGTH must be between 8 and 256"},
		{"UsersWithoutCreate", []string{"users"}, nil, "authgate users create --username NAME"},
		{"UserPasswordAsArgument", []string{"users", "create", "--username", "a", "hunter2hunter2"}, nil, "the password is asked for, or read from standard input"},
		{"SetPasswordAsArgument", []string{"users", "set-password", "--username", "a", "hunter2hunter2"}, nil, "the password is asked for, or read from standard input"},
		{"PreviousSecretTooShort", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_SECRET_PREVIOUS", "short"), "AUTHGATE_SECRET_PREVIOUS must be at least 32 characters"},
		{"PreviousSecretIsSecret", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_SECRET_PREVIOUS", testSecret), "AUTHGATE_SECRET_PREVIOUS is the same as AUTHGATE_SECRET"},
		{"MisspeltVariableOnBadConfig", []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/x", "AUTHGATE_SECRTE": testSecret}, "AUTHGATE_SECRTE is not a known variable; did you mean AUTHGATE_SECRET?"},
		{"AddrWithoutPort", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_ADDR", "localhost"), "AUTHGATE_ADDR must be host:port"},
		{"ManagementAddrWithoutPort", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1"), "AUTHGATE_MANAGEMENT_ADDR must be host:port"},
		{"ManagementAddrIsAddr", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_ADDR", "127.0.0.1:8080", "AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1:8080"), "AUTHGATE_MANAGEMENT_ADDR is the same address as AUTHGATE_ADDR"},
		{"PortalURLWithoutDomain", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_PORTAL_URLS", "https://auth.home.example"), "AUTHGATE_PORTAL_URLS is set but AUTHGATE_COOKIE_DOMAINS is not"},
		{"DomainWithoutPortalURL", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example"), "no portal URL for cookie domain home.example"},
		{"PortalURLOutsideDomain", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example", "AUTHGATE_PORTAL_URLS", "https://auth.evilhome.example"), "https://auth.evilhome.example is under none of AUTHGATE_COOKIE_DOMAINS"},
		{"TwoPortalURLsForOneDomain", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example", "AUTHGATE_PORTAL_URLS", "https://a.home.example,https://b.home.example"), "cookie domain home.example has two portal URLs"},
		{"RememberShorterThanIdle", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_SESSION_REMEMBER_TTL", "1h"), "AUTHGATE_SESSION_REMEMBER_TTL must be at least AUTHGATE_SESSION_IDLE_TTL"},
		{"MaxShorterThanRemember", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_SESSION_MAX_TTL", "240h"), "AUTHGATE_SESSION_MAX_TTL must be at least AUTHGATE_SESSION_REMEMBER_TTL"},
		{"ProvidersBothWays", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_PROVIDERS", `[]`, "AUTHGATE_PROVIDERS_FILE", "/nonexistent"), "AUTHGATE_PROVIDERS and AUTHGATE_PROVIDERS_FILE are both set"},
		{"ProvidersFileMissing", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_PROVIDERS_FILE", "/nonexistent/providers.json"), "AUTHGATE_PROVIDERS_FILE cannot be read"},
		{"ProviderUnknownField", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example", "AUTHGATE_PORTAL_URLS", "https://auth.home.example",
			"AUTHGATE_PROVIDERS", `[{"id":"pocket","issuer":"https://id.home.example","client_id":"authgate","client_secret":"inline"}]`), `AUTHGATE_PROVIDERS: invalid identity provider configuration: not a JSON list of providers: json: unknown field "client_secret"`},
		{"ProviderHTTPIssuer", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example", "AUTHGATE_PORTAL_URLS", "https://auth.home.example",
			"AUTHGATE_PROVIDERS", `[{"id":"pocket","issuer":"http://id.home.example","client_id":"authgate"}]`), "AUTHGATE_PROVIDERS: provider pocket: issuer: http://id.home.example must use https"},
		{"ProviderSecretEnvUnset", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_COOKIE_DOMAINS", "home.example", "AUTHGATE_PORTAL_URLS", "https://auth.home.example",
			"AUTHGATE_PROVIDERS", `[{"id":"pocket","issuer":"https://id.home.example","client_id":"authgate","client_secret_env":"POCKET_SECRET"}]`), "AUTHGATE_PROVIDERS: provider pocket: client_secret_env: the environment variable POCKET_SECRET is not set or empty"},
		{"ExternalIssuersBothWays", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[]`, "AUTHGATE_EXTERNAL_ISSUERS_FILE", "/nonexistent"), "AUTHGATE_EXTERNAL_ISSUERS and AUTHGATE_EXTERNAL_ISSUERS_FILE are both set"},
		{"ExternalIssuerNoAudience", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"ci","issuer":"https://ci.example"}]`), `AUTHGATE_EXTERNAL_ISSUERS: external issuer "ci": audience: name at least one audience`},
		{"ExternalIssuerHS256", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"ci","issuer":"https://ci.example","audience":"a","algorithms":["HS256"]}]`), `algorithms: "HS256" is not allowed`},
		{"ExternalIssuerHTTP", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"ci","issuer":"http://ci.example","audience":"a"}]`), `external issuer "ci": issuer: "http://ci.example" must be https`},
		{"ExternalIssuerUnknownField", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"ci","issuer":"https://ci.example","audience":"a","scope":"x"}]`), `unknown field "scope"`},
		{"ExternalIssuerGitHubRequireWithoutOwner", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"gha","issuer":"https://token.actions.githubusercontent.com","audience":"a","require":{"ref":"refs/heads/main"}}]`), `require: GitHub Actions signs a token for every workflow`},
		{"ExternalIssuerGitHubWithoutRequire", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"gha","issuer":"https://token.actions.githubusercontent.com","audience":"a"}]`), `external issuer "gha": require: GitHub Actions signs a token for every workflow`},
		{"ExternalIssuerIsOwn", []string{"serve"}, testEnv("postgres://x@127.0.0.1/x", "AUTHGATE_JWT_ISSUER", "https://auth.example", "AUTHGATE_EXTERNAL_ISSUERS", `[{"id":"me","issuer":"https://auth.example","audience":"a"}]`), "is authgate's own (AUTHGATE_JWT_ISSUER)"},
		{"DatabaseUnreachable", []string{"migrate"}, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, "connect to database nobody@127.0.0.1:1/none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, tt.env, nil, &out, &errOut)
			if code != 1 || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

func TestRun_HelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, nil, nil, &out, io.Discard); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, v := range []string{"DATABASE_URL", "AUTHGATE_SECRET", "AUTHGATE_ADDR", "AUTHGATE_MANAGEMENT_ADDR", "AUTHGATE_MIGRATE", "AUTHGATE_CACHE_TTL",
		"AUTHGATE_NEGATIVE_CACHE_TTL", "AUTHGATE_CACHE_SIZE", "AUTHGATE_LOG_LEVEL", "AUTHGATE_SHUTDOWN_TIMEOUT",
		"AUTHGATE_COOKIE_DOMAINS", "AUTHGATE_PORTAL_URLS", "AUTHGATE_PORTAL_DEV", "AUTHGATE_SESSION_IDLE_TTL"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
}
