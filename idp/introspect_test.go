package idp_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/idp/idptest"
)

// accessToken runs the code flow at op as client for username, and returns
// the access token it got.
func accessToken(t *testing.T, op *idptest.Provider, client idptest.Client, username string) string {
	t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: client.ID, ClientSecret: client.Secret, Endpoint: p.Endpoint(),
		RedirectURL: loopbackCallback, Scopes: []string{"openid", "email", "profile", "groups"}}
	u, _ := op.User(username)
	cb, err := url.Parse(op.LoginAs(t, browser(t), oc.AuthCodeURL("app-state", oidc.Nonce("app-nonce")), u.Username, u.Password))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oc.Exchange(ctx, cb.Query().Get("code"))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %+v, %v", tok, err)
	}
	return tok.AccessToken
}

// TestSet_VerifyAccessToken: the real provider's introspection (RFC 7662)
// answers active only to a client in the token's audience, so authgate's own
// client's token passes and another app's does not.
func TestSet_VerifyAccessToken(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	ctx := context.Background()
	authgate, other := op.Clients[0], op.Clients[1]
	s := nativeSet(t, op, nil, idp.Options{})

	t.Run("OurClientsToken", func(t *testing.T) {
		got, err := s.VerifyAccessToken(ctx, "op", accessToken(t, op, authgate, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Provider != "op" || got.Issuer != op.Issuer || got.Subject != "sub-alice" || got.Email != "alice@example.test" ||
			!got.EmailVerified || got.Username != "alice" || got.Name != "Alice Archer" || strings.Join(got.Groups, ",") != "family,admins" {
			t.Errorf("got %+v; want alice's identity, mapped as Finish maps it", got)
		}
	})
	t.Run("UnverifiedEmail", func(t *testing.T) {
		got, err := s.VerifyAccessToken(ctx, "op", accessToken(t, op, authgate, "bob"))
		if err != nil || got.Subject != "sub-bob" || got.Email != "bob@example.test" || got.EmailVerified {
			t.Errorf("got %+v, %v; want bob with an unverified email", got, err)
		}
	})
	otherApp := accessToken(t, op, other, "alice")
	for _, tt := range []struct {
		name, token, why string
	}{
		{"AnotherAppsToken", otherApp, "not active"},
		{"Garbage", "not-a-token", "not active"},
		{"Empty", "", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := s.VerifyAccessToken(ctx, "op", tt.token); !errors.Is(err, idp.ErrInvalid) ||
				!strings.Contains(err.Error(), tt.why) {
				t.Errorf("got %+v, %v; want ErrInvalid saying %s", got, err, tt.why)
			}
		})
	}
	// Listing other-app as a native client does not make authgate's client
	// see other-app's token: the provider still answers inactive.
	t.Run("AnotherAppsTokenWithNativeIDs", func(t *testing.T) {
		withNative := nativeSet(t, op, []string{other.ID}, idp.Options{})
		if _, err := withNative.VerifyAccessToken(ctx, "op", otherApp); !errors.Is(err, idp.ErrInvalid) {
			t.Errorf("got %v; want ErrInvalid", err)
		}
	})
	t.Run("PublicClientCannotIntrospect", func(t *testing.T) {
		pub, err := idp.New(ctx, []idp.ProviderConfig{{ID: "op", Issuer: op.Issuer, ClientID: op.ClientID}},
			idp.Options{Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		_, err = pub.VerifyAccessToken(ctx, "op", accessToken(t, op, authgate, "alice"))
		if ue, ok := errors.AsType[*idp.UnsupportedError](err); !ok || ue.Field != "access_token" ||
			!strings.Contains(ue.Msg, "public client") || !errors.Is(err, idp.ErrUnsupported) {
			t.Errorf("got %v; want an UnsupportedError saying a public client cannot introspect", err)
		}
	})
	t.Run("UnknownProvider", func(t *testing.T) {
		if _, err := s.VerifyAccessToken(ctx, "nope", otherApp); !errors.Is(err, idp.ErrUnknownProvider) {
			t.Errorf("got %v; want ErrUnknownProvider", err)
		}
	})
	t.Run("ProviderDown", func(t *testing.T) {
		tok := accessToken(t, op, authgate, "alice")
		op.Stop()
		if _, err := s.VerifyAccessToken(ctx, "op", tok); !errors.Is(err, idp.ErrUnavailable) {
			t.Errorf("got %v; want ErrUnavailable", err)
		}
	})
}

// TestSet_VerifyAccessToken_Expired: exp in the past at authgate's clock is
// refused, though the provider says active.
func TestSet_VerifyAccessToken_Expired(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	s := nativeSet(t, op, nil, idp.Options{Now: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	_, err := s.VerifyAccessToken(context.Background(), "op", accessToken(t, op, op.Clients[0], "alice"))
	if !errors.Is(err, idp.ErrInvalid) || !strings.Contains(err.Error(), "exp") {
		t.Errorf("got %v; want ErrInvalid naming exp", err)
	}
}
