// Command authgate-op is zitadel/oidc's example OpenID provider (example/server/exampleop and
// example/server/storage: the real op package, its login form, its in-memory storage) started from a
// JSON configuration instead of hard-coded users and clients, for authgate's tests.
//
// scripts/oidc-provider.sh copies this file into the downloaded github.com/zitadel/oidc/v3 module
// (as cmd/authgate-op) and builds it there; it is not part of authgate's module (testdata is ignored
// by the go command). What it adds to the example, and nothing else:
//   - users, passwords, emails (verified or not) and groups from the configuration file;
//   - confidential web clients with exact redirect URIs and/or redirect URI globs;
//   - a "groups" scope: the groups claim in the ID token and at the userinfo endpoint;
//   - per client, whether userinfo claims (email, profile, groups) are also put in the ID token
//     (the example never does once an access token is issued; many real providers do);
//   - it listens on the configured address (default 127.0.0.1:0) before choosing the issuer
//     http://<host>:<port>/, and prints "issuer <URL>" on stdout once it accepts connections.
//
// Usage: authgate-op CONFIG.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

const scopeGroups = "groups"

type config struct {
	Addr    string       `json:"addr"`
	Users   []userConfig `json:"users"`
	Clients []clientConf `json:"clients"`
}

type userConfig struct {
	ID            string   `json:"id"`
	Username      string   `json:"username"`
	Password      string   `json:"password"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Groups        []string `json:"groups"`
}

type clientConf struct {
	ID                   string   `json:"id"`
	Secret               string   `json:"secret"`
	RedirectURIs         []string `json:"redirect_uris"`
	RedirectURIGlobs     []string `json:"redirect_uri_globs"`
	ClaimsInUserinfoOnly bool     `json:"claims_in_userinfo_only"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "authgate-op:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return errors.New("usage: authgate-op CONFIG.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("%s: %w", os.Args[1], err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String() + "/"

	users := userStore{byID: map[string]*storage.User{}}
	groups := map[string][]string{}
	for _, u := range cfg.Users {
		users.byID[u.ID] = &storage.User{
			ID: u.ID, Username: u.Username, Password: u.Password,
			FirstName: u.FirstName, LastName: u.LastName,
			Email: u.Email, EmailVerified: u.EmailVerified,
			PreferredLanguage: language.English,
		}
		groups[u.ID] = u.Groups
	}
	clients := map[string]*storage.Client{}
	extras := map[string]clientConf{}
	for _, c := range cfg.Clients {
		// With no redirect URIs at all WebClient registers its default,
		// http://localhost:9999/auth/callback.
		clients[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
		extras[c.ID] = c
	}
	st := &groupStorage{
		Storage: storage.NewStorageWithClients(users, clients),
		groups:  groups,
		clients: extras,
		scopes:  map[string][]string{},
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router := exampleop.SetupServer(issuer, st, logger, false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("issuer %s\n", issuer)
	return srv.Serve(ln)
}

// userStore is storage.UserStore over the configured users.
type userStore struct{ byID map[string]*storage.User }

func (u userStore) GetUserByID(id string) *storage.User { return u.byID[id] }
func (u userStore) ExampleClientID() string             { return storage.ServiceUserID }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, user := range u.byID {
		if user.Username == name {
			return user
		}
	}
	return nil
}

// groupStorage is the example storage plus the groups scope and the per-client options.
type groupStorage struct {
	*storage.Storage
	groups  map[string][]string
	clients map[string]clientConf

	mu     sync.Mutex
	scopes map[string][]string // access token id -> scopes, for the userinfo endpoint
}

func (s *groupStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return client{Client: c, conf: s.clients[id]}, nil
}

func (s *groupStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, t op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, t, scopes); err != nil {
		return err
	}
	if !s.clients[t.GetClientID()].ClaimsInUserinfoOnly {
		s.addGroups(ui, t.GetSubject(), scopes)
	}
	return nil
}

func (s *groupStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.mu.Lock()
	scopes := s.scopes[tokenID]
	s.mu.Unlock()
	s.addGroups(ui, subject, scopes)
	return nil
}

func (s *groupStorage) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, r)
	s.remember(id, r.GetScopes())
	return id, exp, err
}

func (s *groupStorage) CreateAccessAndRefreshTokens(ctx context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, r, current)
	s.remember(id, r.GetScopes())
	return id, refresh, exp, err
}

func (s *groupStorage) remember(tokenID string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes[tokenID] = scopes
}

func (s *groupStorage) addGroups(ui *oidc.UserInfo, subject string, scopes []string) {
	for _, sc := range scopes {
		if sc == scopeGroups {
			g := s.groups[subject]
			if g == nil {
				g = []string{}
			}
			ui.AppendClaims(scopeGroups, g)
		}
	}
}

// client is an example web client that also allows the groups scope, may assert userinfo claims
// in the ID token, and accepts the configured redirect URI globs.
type client struct {
	op.Client
	conf clientConf
}

func (c client) IsScopeAllowed(scope string) bool {
	return scope == scopeGroups || c.Client.IsScopeAllowed(scope)
}

func (c client) IDTokenUserinfoClaimsAssertion() bool { return !c.conf.ClaimsInUserinfoOnly }
func (c client) RedirectURIGlobs() []string           { return c.conf.RedirectURIGlobs }
func (c client) PostLogoutRedirectURIGlobs() []string { return nil }
