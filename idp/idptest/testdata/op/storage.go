package main

import (
	"context"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// groupStorage is the example storage plus the groups scope, the per-client options, the service
// clients (service.go) and the rotating signing keys (keys.go).
type groupStorage struct {
	*storage.Storage
	groups   map[string][]string
	clients  map[string]clientConf
	services map[string]serviceConf
	keys     *keyRing

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
