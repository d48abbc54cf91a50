package deploy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests run a shipped proxy configuration over TLS for the hosts of
// two cookie domains, in front of two authgate replicas on one database: the
// proxy's verify calls go to one (ag), its portal host to the other (portal),
// so every sign-in, sign-out and revocation crosses replicas as it would
// behind a load balancer. One headless chromium per proxy resolves every test
// host to the proxy and accepts the test certificate's key.
const (
	domain     = "home.example"
	portalHost = "auth." + domain
	appHost    = "app." + domain
	otherHost  = "other." + domain
	labDomain  = "lab.example" // a second cookie domain, with a portal of its own
	labPortal  = "auth." + labDomain
	labHost    = "app." + labDomain
	evilHost   = "evil.example" // under no cookie domain: an attacker's site
	cookieName = "__Secure-authgate_session"
	password   = "correct horse battery staple"
)

// browserStack is one proxy with its authgate replicas, the upstream and the browser.
type browserStack struct {
	name    string
	addr    string    // the proxy, https
	ag      *authgate // answers the proxy's verify calls
	portal  *authgate // serves the portal hosts: a replica of ag
	up      *upstream
	cert    *testCert
	browser context.Context          // owns the chromium process
	devices [devices]context.Context // browser contexts of its own each (device)
	client  *http.Client             // Go's client through the proxy: every host dials it, redirects not followed
	alice   person                   // signed in by most cases, which end only their own sessions
	sso     *ssoProviders            // the OpenID providers authgate is configured with (sso_browser_test.go); nil when not built
}

// portalHosts adds the second domain's portal host to each shipped config,
// where the operator would add it.
var portalHosts = map[string][3]string{
	"nginx":   {"nginx.conf", "server_name auth.home.example;", "server_name auth.home.example auth.lab.example;"},
	"traefik": {"dynamic.yml", "Host(`auth.home.example`)", "Host(`auth.home.example`) || Host(`auth.lab.example`)"},
	"caddy":   {"Caddyfile", "@portal host auth.home.example", "@portal host auth.home.example auth.lab.example"},
}

func startBrowserStack(t *testing.T, p proxy, bin string) *browserStack {
	t.Helper()
	chromium := chromiumPath(t)
	dir := t.TempDir()
	s := &browserStack{name: p.name, cert: newTestCert(t, dir, domain, "*."+domain, "*."+labDomain, evilHost), up: startUpstream(t)}
	s.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// Chromium takes seconds to start: meanwhile, the rest.
	browser, browserStarted, stopBrowser := startChromium(t, chromium, s.addr, s.cert)
	s.sso = startSSOProviders(t)
	s.ag = startAuthgate(t, append(s.sso.authgateEnv(),
		"AUTHGATE_COOKIE_DOMAINS="+domain+","+labDomain,
		"AUTHGATE_PORTAL_URLS=https://"+portalHost+",https://"+labPortal,
		"AUTHGATE_TRUSTED_PROXIES=127.0.0.1")...)
	s.portal = s.ag.replica(t)
	args, env := p.configure(t, dir, addresses{listen: s.addr, authgate: s.ag.addr, upstream: s.up.addr,
		portal: s.portal.addr, tls: s.cert})
	edit := portalHosts[p.name]
	template(t, filepath.Join(dir, edit[0]), filepath.Join(dir, edit[0]), edit[1], edit[2])
	proc := start(t, p.name, dir, env, bin, args...)
	waitPort(t, proc, s.addr)
	s.client = &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: s.cert.tlsConfig(),
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, s.addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       15 * time.Second,
	}
	// Listening is not ready: Traefik loads its routes a moment later.
	ready := waitFor(context.Background(), 20*time.Second, func() bool {
		r, err := s.try("https://"+appHost+"/public/"+uniqueTag("ready"), nil)
		return err == nil && r.fromUpstream()
	})
	if !ready {
		t.Fatalf("%s did not route https://%s/public/ to the app within 20 s", p.name, appHost)
	}
	for _, step := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/v1/permissions", map[string]any{"name": "events:read"}},
		{"POST", "/v1/permissions", map[string]any{"name": "cameras:stream"}},
		{"POST", "/v1/roles", map[string]any{"name": "family"}},
		{"PUT", "/v1/roles/family/permissions/events:read", map[string]any{}},
	} {
		s.ag.api(t, step.method, step.path, step.body, nil)
	}
	s.alice = s.newPerson(t, "alice")
	started := <-browserStarted
	if started.err != nil {
		t.Fatal(started.err)
	}
	t.Logf("chromium started in %v", started.took.Round(time.Millisecond))
	s.browser = browser
	// Cleanups run last-registered first: chromium goes before the proxy and
	// authgate, which would otherwise wait for its keep-alive connections.
	t.Cleanup(stopBrowser)
	s.openDevices(t)
	return s
}

// chromiumPath finds Debian's chromium; without it the test skips, or fails
// under CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	skipOrFail(t, "chromium is not installed; run: apt-get install chromium (make test does)")
	return ""
}

// startChromium starts one headless chromium for the test, with a fresh
// profile, every test host resolved to the proxy's port (so URLs carry no
// port, as in production), and the test certificate's key accepted. The
// channel says when it is up, or why not; stop ends it (also done when the
// test ends).
func startChromium(t *testing.T, path, proxyAddr string, cert *testCert) (context.Context, <-chan chromiumStart, func()) {
	t.Helper()
	var rules []string
	for _, host := range []string{"*." + domain, "*." + labDomain, evilHost} {
		rules = append(rules, "MAP "+host+":443 "+proxyAddr)
	}
	log := &syncBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.CombinedOutput(log),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("password-store", "basic"),
		chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")),
		chromedp.Flag("ignore-certificate-errors-spki-list", cert.spki),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			cancelAlloc() // waits for chromium to exit, before its profile directory is removed
			if t.Failed() && os.Getenv("AUTHGATE_BROWSER_LOG") != "" {
				t.Logf("--- chromium log ---\n%s", log.String())
			}
		})
	}
	t.Cleanup(stop)
	// No t methods in the goroutine: the test may have ended when it finishes.
	done := make(chan chromiumStart, 1)
	go func() {
		started := time.Now()
		err := chromedp.Do(ctx)
		if err != nil {
			err = fmt.Errorf("start chromium: %v\n%s", err, log.String())
		}
		done <- chromiumStart{took: time.Since(started), err: err}
	}()
	return ctx, done, stop
}

// chromiumStart is how starting chromium went.
type chromiumStart struct {
	took time.Duration
	err  error
}

// get sends one GET through the proxy with Go's client, headers as given.
func (s *browserStack) get(t *testing.T, url string, h http.Header) *response {
	t.Helper()
	r, err := s.try(url, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (s *browserStack) try(url string, h http.Header) (*response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if h != nil {
		req.Header = h.Clone()
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return &response{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// person is a household member with a password and the role family
// (events:read, not cameras:stream).
type person struct{ login, email string }

// newPerson creates the user name, once per stack.
func (s *browserStack) newPerson(t *testing.T, name string) person {
	t.Helper()
	p := person{login: name, email: name + "@" + domain} // each stack has a database of its own
	s.ag.api(t, http.MethodPost, "/v1/users", map[string]any{"username": p.login, "email": p.email,
		"password": password, "roles": []string{"family"}}, nil)
	return p
}

// sawPerson fails unless the upstream received tag with p's session identity.
func (s *browserStack) sawPerson(t *testing.T, tag string, p person) {
	t.Helper()
	h := s.up.saw(tag)
	if h == nil {
		t.Fatalf("the upstream never received %s", tag)
	}
	for name, want := range map[string]string{"X-Auth-Kind": "session", "X-Auth-User": p.login,
		"X-Auth-Email": p.email, "X-Auth-Roles": "family"} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("upstream got %s %q; want %q", name, got, want)
		}
	}
	if h.Get("X-Auth-Subject") == "" {
		t.Error("upstream got no X-Auth-Subject")
	}
}

// screenshot saves the tab's page as dir/<proxy>-<name>.png when
// AUTHGATE_SCREENSHOTS names a directory (for the README).
func (s *browserStack) screenshot(t *testing.T, b *tab, name string) {
	t.Helper()
	dir := os.Getenv("AUTHGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, s.name+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", file)
}
