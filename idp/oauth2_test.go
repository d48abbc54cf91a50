package idp_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/idp/idptest"
)

// oauth2Set configures the real provider op twice: as "plain", a plain
// OAuth2 provider (its endpoints given, the identity from its userinfo
// endpoint, no ID token read), the way the github preset works; and as "op",
// the OpenID provider, for the mix-up cases.
func oauth2Set(t *testing.T, op *idptest.Provider) *idp.Set {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Userinfo string `json:"userinfo_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	list, err := idp.ParseProviders([]byte(`[
		{"id":"plain","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"S","protocol":"oauth2",
		 "authorization_endpoint":"`+p.Endpoint().AuthURL+`","token_endpoint":"`+p.Endpoint().TokenURL+`",
		 "userinfo_endpoint":"`+meta.Userinfo+`","scopes":["openid","email","profile","groups"]},
		{"id":"op","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"S"}]`),
		idp.Lookups{Env: func(string) (string, bool) { return op.ClientSecret, true }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := idp.New(context.Background(), list, idp.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestFinish_OAuth2Only: the OAuth2-only path (the github preset's) end to
// end against a real OAuth2 peer: state and PKCE checked, no nonce, the
// identity read with the access token, the attempt bound to its provider.
func TestFinish_OAuth2Only(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	s := oauth2Set(t, op)
	ctx := context.Background()
	const cb = "http://127.0.0.1:1/sso/plain/callback"
	signIn := func(t *testing.T, username string) (idp.Attempt, url.Values) {
		t.Helper()
		authURL, a, err := s.Begin("plain", cb)
		if err != nil {
			t.Fatal(err)
		}
		if u, _ := url.Parse(authURL); u.Query().Has("nonce") || u.Query().Get("code_challenge_method") != "S256" {
			t.Fatalf("got %s; want PKCE S256 and no nonce", authURL)
		}
		u, _ := op.User(username)
		back, err := url.Parse(op.LoginAs(t, browser(t), authURL, u.Username, u.Password))
		if err != nil {
			t.Fatal(err)
		}
		return a, back.Query()
	}

	t.Run("Identity", func(t *testing.T) {
		a, q := signIn(t, "alice")
		got, err := s.Finish(ctx, "plain", cb, a, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Provider != "plain" || got.Issuer != op.Issuer || got.Subject != "sub-alice" || got.Email != "alice@example.test" ||
			!got.EmailVerified || got.Username != "alice" || got.Name != "Alice Archer" ||
			!slices.Equal(got.Groups, []string{"family", "admins"}) {
			t.Errorf("got %+v; want alice's identity from the userinfo endpoint", got)
		}
		if _, err := s.Finish(ctx, "plain", cb, a, q); !errors.Is(err, idp.ErrExpired) {
			t.Errorf("replayed code: got %v; want ErrExpired", err)
		}
	})
	t.Run("UnverifiedEmail", func(t *testing.T) {
		a, q := signIn(t, "bob")
		got, err := s.Finish(ctx, "plain", cb, a, q)
		if err != nil || got.Email != "bob@example.test" || got.EmailVerified {
			t.Errorf("got %+v, %v; want bob's email, unverified", got, err)
		}
	})
	t.Run("WrongState", func(t *testing.T) {
		a, q := signIn(t, "alice")
		q.Set("state", "forged")
		if _, err := s.Finish(ctx, "plain", cb, a, q); !errors.Is(err, idp.ErrExpired) {
			t.Errorf("got %v; want ErrExpired", err)
		}
	})
	t.Run("WrongVerifier", func(t *testing.T) {
		a, q := signIn(t, "alice")
		a.Verifier = "a-verifier-that-is-not-the-one-of-the-challenge-0123456789"
		if _, err := s.Finish(ctx, "plain", cb, a, q); !errors.Is(err, idp.ErrExpired) {
			t.Errorf("got %v; want the token endpoint to refuse the code (PKCE)", err)
		}
	})
	// Mix-up: a callback of the OAuth2 provider's attempt arriving at the
	// OpenID provider's callback (or the other way round) is refused before
	// any code is spent.
	t.Run("AttemptOfAnotherProvider", func(t *testing.T) {
		a, q := signIn(t, "alice")
		if _, err := s.Finish(ctx, "op", "http://127.0.0.1:1/sso/op/callback", a, q); !errors.Is(err, idp.ErrExpired) {
			t.Errorf("got %v; want ErrExpired", err)
		}
		if got, err := s.Finish(ctx, "plain", cb, a, q); err != nil || got.Subject != "sub-alice" {
			t.Errorf("got %+v, %v; want the code still good at its own provider", got, err)
		}
	})
	t.Run("WrongRedirectURI", func(t *testing.T) {
		a, q := signIn(t, "alice")
		if _, err := s.Finish(ctx, "plain", "http://127.0.0.1:1/sso/op/callback", a, q); err == nil {
			t.Error("got nil; want the token endpoint to refuse a code for another redirect URI")
		}
	})
}
