package idptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is a person the provider knows. Subject is the sub claim; Username and
// Password are what its login form takes.
type User struct {
	Subject       string
	Username      string
	Password      string
	GivenName     string
	FamilyName    string
	Email         string
	EmailVerified bool
	Groups        []string
}

// Name is the name claim the provider sends for u: given and family name.
func (u User) Name() string { return u.GivenName + " " + u.FamilyName }

// Client is a confidential client registered with the provider (client type
// web, client_secret_basic or client_secret_post).
type Client struct {
	ID     string
	Secret string
	// ClaimsInUserinfoOnly keeps email, profile and groups claims out of this
	// client's ID tokens (they are then only at the userinfo endpoint), as
	// OpenID Connect Core 5.4 describes when an access token is issued.
	ClaimsInUserinfoOnly bool
}

// Options configure one provider. The zero value gives DefaultUsers,
// DefaultClients and DefaultRedirectURIGlobs, and no service clients.
type Options struct {
	Users   []User
	Clients []Client
	// ServiceClients may use the client_credentials grant (and only it); nil
	// means none.
	ServiceClients []ServiceClient
	// RedirectURIs are accepted exactly, by every client.
	RedirectURIs []string
	// RedirectURIGlobs are accepted by every client when they match
	// (github.com/bmatcuk/doublestar: * stops at /, ** does not). Nil means
	// DefaultRedirectURIGlobs; an empty, non-nil slice means none.
	RedirectURIGlobs []string
}

// DefaultUsers returns the users a provider has unless Options say otherwise:
// alice (verified email, groups family and admins), bob (unverified email,
// group family) and carol (verified email, no groups).
func DefaultUsers() []User {
	return []User{
		{Subject: "sub-alice", Username: "alice", Password: "alice-password", GivenName: "Alice", FamilyName: "Archer",
			Email: "alice@example.test", EmailVerified: true, Groups: []string{"family", "admins"}},
		{Subject: "sub-bob", Username: "bob", Password: "bob-password", GivenName: "Bob", FamilyName: "Baker",
			Email: "bob@example.test", EmailVerified: false, Groups: []string{"family"}},
		{Subject: "sub-carol", Username: "carol", Password: "carol-password", GivenName: "Carol", FamilyName: "Cooper",
			Email: "carol@example.test", EmailVerified: true},
	}
}

// DefaultClients returns the clients a provider has unless Options say
// otherwise: authgate, and other-app (for tokens minted for another audience).
func DefaultClients() []Client {
	return []Client{
		{ID: "authgate", Secret: "authgate-client-secret"},
		{ID: "other-app", Secret: "other-app-client-secret"},
	}
}

// DefaultRedirectURIGlobs accept any http URI on a loopback host, any port.
func DefaultRedirectURIGlobs() []string {
	return []string{"http://127.0.0.1:*/**", "http://localhost:*/**"}
}

// Provider is one running provider process.
type Provider struct {
	// Issuer is http://127.0.0.1:<port>/ (trailing slash included): the
	// issuer of its discovery document and the iss of its ID tokens.
	Issuer string
	// ClientID and ClientSecret are those of Clients[0].
	ClientID     string
	ClientSecret string
	Clients      []Client
	Users        []User
	// ServiceClients are Options.ServiceClients, each Audience defaulted.
	ServiceClients []ServiceClient

	// from discovery
	tokenURL, jwksURL string

	cmd  *exec.Cmd
	logs *syncBuffer
	stop sync.Once
}

// Start builds the configuration, starts the provider on a free loopback port,
// waits until its discovery document answers, and stops it when t ends. A
// missing binary skips t (fails it under CI=true); a provider that does not
// come up fails t. On failure the provider's log is in t's output.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	bin := binary(t)
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.Clients == nil {
		opts.Clients = DefaultClients()
	}
	if opts.RedirectURIGlobs == nil {
		opts.RedirectURIGlobs = DefaultRedirectURIGlobs()
	}
	opts.ServiceClients = slices.Clone(opts.ServiceClients) // not the caller's array
	for i, sc := range opts.ServiceClients {
		if len(sc.Audience) == 0 {
			sc.Audience = []string{sc.ID}
		}
		opts.ServiceClients[i] = sc
	}
	cfg := filepath.Join(t.TempDir(), "op.json")
	raw, err := configJSON(opts)
	if err != nil {
		t.Fatalf("service client claims: %v", err)
	}
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	p := &Provider{
		ClientID: opts.Clients[0].ID, ClientSecret: opts.Clients[0].Secret,
		Clients: opts.Clients, Users: opts.Users, ServiceClients: opts.ServiceClients,
		cmd: exec.Command(bin, cfg), logs: &syncBuffer{},
	}
	p.cmd.Stderr = p.logs
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("OpenID provider %s log:\n%s", p.Issuer, p.logs.String())
		}
	})
	p.Issuer = readIssuer(t, out, p.logs)
	waitDiscovery(t, p.Issuer)
	p.discover(t)
	return p
}

// Stop ends the provider now (a provider going down mid-sign-in); Start's
// cleanup calls it too. Stop is idempotent.
func (p *Provider) Stop() {
	p.stop.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

// User returns the user with this username, and false if there is none.
func (p *Provider) User(username string) (User, bool) {
	for _, u := range p.Users {
		if u.Username == username {
			return u, true
		}
	}
	return User{}, false
}

// readIssuer reads the "issuer URL" line the provider prints once it listens.
func readIssuer(t testing.TB, out io.Reader, logs *syncBuffer) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if iss, ok := strings.CutPrefix(sc.Text(), "issuer "); ok {
				line <- iss
				break
			}
		}
		for sc.Scan() { // keep draining: the provider must never block on stdout
		}
		close(line)
	}()
	select {
	case iss, ok := <-line:
		if !ok {
			t.Fatalf("the OpenID provider exited before listening:\n%s", logs.String())
		}
		return iss
	case <-time.After(15 * time.Second):
		t.Fatalf("the OpenID provider did not start within 15 s:\n%s", logs.String())
	}
	return ""
}

func waitDiscovery(t testing.TB, issuer string) {
	t.Helper()
	url := issuer + ".well-known/openid-configuration"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// configJSON is the launcher's configuration (idp/idptest/testdata/op/main.go).
func configJSON(o Options) ([]byte, error) {
	type user struct {
		ID            string   `json:"id"`
		Username      string   `json:"username"`
		Password      string   `json:"password"`
		FirstName     string   `json:"first_name"`
		LastName      string   `json:"last_name"`
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Groups        []string `json:"groups"`
	}
	type client struct {
		ID                   string   `json:"id"`
		Secret               string   `json:"secret"`
		RedirectURIs         []string `json:"redirect_uris"`
		RedirectURIGlobs     []string `json:"redirect_uri_globs"`
		ClaimsInUserinfoOnly bool     `json:"claims_in_userinfo_only"`
	}
	type service struct {
		ID       string         `json:"id"`
		Secret   string         `json:"secret"`
		Audience []string       `json:"audience"`
		Claims   map[string]any `json:"claims"`
	}
	var c struct {
		Addr     string    `json:"addr"`
		Users    []user    `json:"users"`
		Clients  []client  `json:"clients"`
		Services []service `json:"service_clients"`
	}
	c.Addr = "127.0.0.1:0"
	for _, u := range o.Users {
		c.Users = append(c.Users, user{u.Subject, u.Username, u.Password, u.GivenName, u.FamilyName,
			u.Email, u.EmailVerified, u.Groups})
	}
	for _, cl := range o.Clients {
		c.Clients = append(c.Clients, client{cl.ID, cl.Secret, o.RedirectURIs, o.RedirectURIGlobs,
			cl.ClaimsInUserinfoOnly})
	}
	for _, sc := range o.ServiceClients {
		c.Services = append(c.Services, service{sc.ID, sc.Secret, sc.Audience, sc.Claims})
	}
	return json.Marshal(c)
}

// syncBuffer collects the provider's log while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
