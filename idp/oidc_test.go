package idp_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/idp/idptest"
)

// The full flow against a real OpenID provider (zitadel/oidc's example OP).

const loopbackCallback = "http://127.0.0.1:1/sso/op/callback"

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func opSet(t *testing.T, op *idptest.Provider, o idp.Options) *idp.Set {
	t.Helper()
	o.Log = slog.New(slog.DiscardHandler)
	s, err := idp.New(context.Background(), []idp.ProviderConfig{{ID: "op", Name: "Example", Issuer: op.Issuer,
		ClientID: op.ClientID, ClientSecret: op.ClientSecret, Scopes: []string{"openid", "email", "profile", "groups"}}}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if !s.Ready("op") {
		t.Fatal("provider not discovered")
	}
	return s
}

// signIn begins, logs in at the provider as username, and returns the
// attempt and the callback's query.
func signIn(t *testing.T, s *idp.Set, op *idptest.Provider, username string) (idp.Attempt, url.Values) {
	t.Helper()
	authURL, a, err := s.Begin("op", loopbackCallback)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := op.User(username)
	cb, err := url.Parse(op.LoginAs(t, browser(t), authURL, u.Username, u.Password))
	if err != nil {
		t.Fatal(err)
	}
	return a, cb.Query()
}

func TestFinish_RealProvider(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	s := opSet(t, op, idp.Options{})
	ctx := context.Background()

	t.Run("Identity", func(t *testing.T) {
		a, q := signIn(t, s, op, "alice")
		got, err := s.Finish(ctx, "op", loopbackCallback, a, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Provider != "op" || got.Issuer != op.Issuer || got.Subject != "sub-alice" || got.Email != "alice@example.test" ||
			!got.EmailVerified || got.Username != "alice" || got.Name != "Alice Archer" ||
			!slices.Equal(got.Groups, []string{"family", "admins"}) {
			t.Errorf("got %+v; want alice's identity", got)
		}
		if _, err := s.Finish(ctx, "op", loopbackCallback, a, q); !errors.Is(err, idp.ErrExpired) {
			t.Errorf("replayed code: got %v; want ErrExpired", err)
		}
	})
	t.Run("UnverifiedEmail", func(t *testing.T) {
		a, q := signIn(t, s, op, "bob")
		got, err := s.Finish(ctx, "op", loopbackCallback, a, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != "bob@example.test" || got.EmailVerified {
			t.Errorf("got email %q verified %v; want bob's, unverified", got.Email, got.EmailVerified)
		}
	})
	t.Run("NonceMismatch", func(t *testing.T) {
		a, q := signIn(t, s, op, "alice")
		a.Nonce = "not-the-nonce-of-the-token"
		if _, err := s.Finish(ctx, "op", loopbackCallback, a, q); !errors.Is(err, idp.ErrInvalid) {
			t.Errorf("got %v; want ErrInvalid", err)
		}
	})
	t.Run("WrongRedirectURI", func(t *testing.T) {
		a, q := signIn(t, s, op, "alice")
		if _, err := s.Finish(ctx, "op", "http://127.0.0.1:1/sso/other/callback", a, q); err == nil {
			t.Error("got nil; want the token endpoint to refuse a code for another redirect URI")
		}
	})
}

// asOtherApp makes the token request with other-app's credentials: with the
// authorization request also made for other-app, the provider returns an ID
// token whose audience is other-app, which our verifier must refuse.
type asOtherApp struct{ other idptest.Client }

func (o asOtherApp) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
		r = r.Clone(r.Context())
		r.SetBasicAuth(url.QueryEscape(o.other.ID), url.QueryEscape(o.other.Secret))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestFinish_IDTokenForAnotherAudience(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	other := op.Clients[1]
	s := opSet(t, op, idp.Options{HTTPClient: &http.Client{Transport: asOtherApp{other}}})
	authURL, a, err := s.Begin("op", loopbackCallback)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Set("client_id", other.ID)
	u.RawQuery = q.Encode()
	cb, _ := url.Parse(op.Login(t, browser(t), u.String()))
	_, err = s.Finish(context.Background(), "op", loopbackCallback, a, cb.Query())
	if !errors.Is(err, idp.ErrInvalid) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("got %v; want ErrInvalid naming the audience", err)
	}
}

func TestFinish_ProviderDownDuringSignIn(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	s := opSet(t, op, idp.Options{})
	a, q := signIn(t, s, op, "alice")
	op.Stop()
	if _, err := s.Finish(context.Background(), "op", loopbackCallback, a, q); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("got %v; want ErrUnavailable", err)
	}
}

// TestFinish_MixUpBetweenTwoProviders: a code from provider b, delivered to
// provider a's callback with a's state (what a malicious or compromised b
// could make a browser do), is never accepted as a's.
func TestFinish_MixUpBetweenTwoProviders(t *testing.T) {
	opA, opB := idptest.Start(t, idptest.Options{}), idptest.Start(t, idptest.Options{})
	s, err := idp.New(context.Background(), []idp.ProviderConfig{
		{ID: "a", Issuer: opA.Issuer, ClientID: opA.ClientID, ClientSecret: opA.ClientSecret},
		{ID: "b", Issuer: opB.Issuer, ClientID: opB.ClientID, ClientSecret: opB.ClientSecret},
	}, idp.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	_, attemptA, err := s.Begin("a", loopbackCallback)
	if err != nil {
		t.Fatal(err)
	}
	authB, attemptB, err := s.Begin("b", loopbackCallback)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := url.Parse(opB.Login(t, browser(t), authB))
	codeB := cb.Query().Get("code")
	ctx := context.Background()
	tests := []struct {
		name     string
		provider string
		a        idp.Attempt
		q        url.Values
		want     error
	}{
		{"CodeOfBAtAsCallback", "a", attemptA, url.Values{"state": {attemptA.State}, "code": {codeB}}, idp.ErrExpired},
		{"CodeOfBWithBsIss", "a", attemptA, url.Values{"state": {attemptA.State}, "code": {codeB}, "iss": {opB.Issuer}}, idp.ErrInvalid},
		{"AttemptOfAAtBsCallback", "b", attemptA, url.Values{"state": {attemptA.State}, "code": {codeB}}, idp.ErrExpired},
		{"StateOfBWithAttemptOfA", "a", attemptA, url.Values{"state": {attemptB.State}, "code": {codeB}}, idp.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Finish(ctx, tt.provider, loopbackCallback, tt.a, tt.q); !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
		})
	}
	// b's own flow still works: nothing above consumed its code.
	if got, err := s.Finish(ctx, "b", loopbackCallback, attemptB, cb.Query()); err != nil || got.Issuer != opB.Issuer {
		t.Errorf("got %+v, %v; want b's identity", got, err)
	}
}
