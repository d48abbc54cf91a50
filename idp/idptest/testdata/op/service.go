package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"maps"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// serviceConf is a machine client of the client_credentials grant: its access tokens are JWTs for
// Audience (default: its own ID) carrying Claims besides the registered ones.
type serviceConf struct {
	ID       string         `json:"id"`
	Secret   string         `json:"secret"`
	Audience []string       `json:"audience"`
	Claims   map[string]any `json:"claims"`
}

var errServiceAuth = errors.New("wrong service client or secret")

// ClientCredentials authenticates a configured service client (client_secret_basic or
// client_secret_post). Only those: the example's own service user sid1 is not accepted.
func (s *groupStorage) ClientCredentials(_ context.Context, clientID, clientSecret string) (op.Client, error) {
	c, ok := s.services[clientID]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(clientSecret)) != 1 {
		return nil, errServiceAuth
	}
	return serviceClient{storage.WebClient(c.ID, c.Secret)}, nil
}

// ClientCredentialsTokenRequest is the example's, with the configured audience.
func (s *groupStorage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.services[clientID]
	if !ok {
		return nil, errServiceAuth
	}
	aud := c.Audience
	if len(aud) == 0 {
		aud = []string{c.ID}
	}
	return &oidc.JWTTokenRequest{Subject: c.ID, Audience: aud, Scopes: scopes}, nil
}

// GetPrivateClaimsFromScopes is the hook op.CreateJWT calls for the claims of a JWT access token
// beyond the registered ones (which win over these): a service client's configured claims go into
// every access token it gets, whatever the scopes.
func (s *groupStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if c, ok := s.services[clientID]; ok && userID == clientID && len(c.Claims) > 0 {
		if claims == nil {
			claims = map[string]any{}
		}
		maps.Copy(claims, c.Claims)
	}
	return claims, nil
}

// serviceClient is an example web client that may only use the client_credentials grant and gets
// JWT access tokens.
type serviceClient struct{ op.Client }

func (serviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (serviceClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
