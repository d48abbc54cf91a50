// Command authgate-op is zitadel/oidc's example OpenID provider (example/server/exampleop and
// example/server/storage: the real op package, its login form, its in-memory storage) started from a
// JSON configuration instead of hard-coded users and clients, for authgate's tests.
//
// scripts/oidc-provider.sh copies this directory's Go files into the downloaded
// github.com/zitadel/oidc/v3 module (as cmd/authgate-op) and builds them there; they are not part of
// authgate's module (testdata is ignored by the go command). What it adds to the example, and
// nothing else:
//   - users, passwords, emails (verified or not) and groups from the configuration file;
//   - confidential web clients with exact redirect URIs and/or redirect URI globs;
//   - a "groups" scope: the groups claim in the ID token and at the userinfo endpoint;
//   - per client, whether userinfo claims (email, profile, groups) are also put in the ID token
//     (the example never does once an access token is issued; many real providers do);
//   - service clients of the client_credentials grant (service.go), whose access tokens are JWTs
//     with a configured audience and extra claims; the example's own service user is not kept;
//   - signing keys rotated on demand (keys.go): the newest signs ID tokens and JWT access tokens,
//     the JWKS publishes every key until they are retired; a test control surface under
//     /authgate-test/ (rotate, retire, and a count of the JWKS requests);
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
	"net/http/httptest"
	"net/url"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/text/language"
)

const scopeGroups = "groups"

type config struct {
	Addr    string       `json:"addr"`
	Users   []userConfig `json:"users"`
	Clients []clientConf `json:"clients"`
	// Services are the client_credentials clients.
	Services []serviceConf `json:"service_clients"`
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
	services := map[string]serviceConf{}
	for _, c := range cfg.Services {
		services[c.ID] = c
	}
	st := &groupStorage{
		Storage:  storage.NewStorageWithClients(users, clients),
		groups:   groups,
		clients:  extras,
		services: services,
		scopes:   map[string][]string{},
	}
	first, err := st.Storage.SigningKey(context.Background())
	if err != nil {
		return err
	}
	if st.keys, err = newKeyRing(first); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router := exampleop.SetupServer(issuer, st, logger, false)
	jwksPath, err := jwksPath(router, issuer)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: withControl(router, st.keys, jwksPath), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("issuer %s\n", issuer)
	return srv.Serve(ln)
}

// jwksPath asks the provider's discovery document (in process) where its JWKS is.
func jwksPath(h http.Handler, issuer string) (string, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, issuer+".well-known/openid-configuration", nil))
	var d struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d.JWKSURI == "" {
		return "", fmt.Errorf("discovery: %d %q: no jwks_uri", rec.Code, rec.Body.String())
	}
	u, err := url.Parse(d.JWKSURI)
	if err != nil {
		return "", err
	}
	return u.Path, nil
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
