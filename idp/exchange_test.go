package idp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/idp/idptest"
)

// idToken runs the code flow at op as the app client would (a native app's
// own sign-in) for username, and returns the ID token it got.
func idToken(t *testing.T, op *idptest.Provider, client idptest.Client, username string) string {
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
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no ID token in the token response")
	}
	return raw
}

// nativeSet is the provider op as "op", with native client ids and options.
func nativeSet(t *testing.T, op *idptest.Provider, native []string, o idp.Options) *idp.Set {
	t.Helper()
	o.Log = slog.New(slog.DiscardHandler)
	s, err := idp.New(context.Background(), []idp.ProviderConfig{{ID: "op", Issuer: op.Issuer, ClientID: op.ClientID,
		ClientSecret: op.ClientSecret, NativeClientIDs: native}}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSet_VerifyIDToken(t *testing.T) {
	op, opB := idptest.Start(t, idptest.Options{}), idptest.Start(t, idptest.Options{})
	ctx := context.Background()
	authgate, other := op.Clients[0], op.Clients[1]
	alice := idToken(t, op, authgate, "alice")
	otherApp := idToken(t, op, other, "alice")
	plain, withNative := nativeSet(t, op, nil, idp.Options{}), nativeSet(t, op, []string{other.ID}, idp.Options{})

	t.Run("OurClient", func(t *testing.T) {
		got, err := plain.VerifyIDToken(ctx, "op", alice)
		if err != nil {
			t.Fatal(err)
		}
		if got.Provider != "op" || got.Issuer != op.Issuer || got.Subject != "sub-alice" || got.Email != "alice@example.test" ||
			!got.EmailVerified || got.Username != "alice" || strings.Join(got.Groups, ",") != "family,admins" {
			t.Errorf("got %+v; want alice's identity, mapped as Finish maps it", got)
		}
	})
	t.Run("NativeClientWhenConfigured", func(t *testing.T) {
		if got, err := withNative.VerifyIDToken(ctx, "op", otherApp); err != nil || got.Subject != "sub-alice" {
			t.Errorf("got %+v, %v; want alice", got, err)
		}
	})

	head, payload, sig := split(t, alice)
	for _, tt := range []struct {
		name string
		set  *idp.Set
		raw  string
		why  string // in the error: refused for this reason
	}{
		{"AnotherAppsToken", plain, otherApp, "audience"},
		{"Expired", nativeSet(t, op, nil, idp.Options{Now: func() time.Time { return time.Now().Add(48 * time.Hour) }}), alice, "expired"},
		// Signed by B's key, which A's JWKS does not hold.
		{"AnotherProvidersToken", plain, idToken(t, opB, opB.Clients[0], "alice"), "signature"},
		{"TamperedSignature", plain, head + "." + payload + "." + flip(sig), "signature"},
		{"TamperedPayload", plain, head + "." + reclaim(t, payload, "sub", "sub-bob") + "." + sig, "signature"},
		{"AlgNone", plain, b64(`{"alg":"none","typ":"JWT"}`) + "." + payload + ".", `algorithm "none"`},
		{"HS256WithTheClientSecret", plain, hs256(t, payload, op.ClientSecret), `algorithm "HS256"`},
		{"NotAJWT", plain, "not-a-token", "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.set.VerifyIDToken(ctx, "op", tt.raw)
			if !errors.Is(err, idp.ErrInvalid) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("got %+v, %v; want ErrInvalid naming %s", got, err, tt.why)
			}
		})
	}
	t.Run("UnknownProvider", func(t *testing.T) {
		if _, err := plain.VerifyIDToken(ctx, "nope", alice); !errors.Is(err, idp.ErrUnknownProvider) {
			t.Errorf("got %v; want ErrUnknownProvider", err)
		}
	})
}

func TestSet_VerifyIDToken_BeforeDiscovery(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	raw := idToken(t, op, op.Clients[0], "alice")
	op.Stop()
	s := nativeSet(t, op, nil, idp.Options{RetryMin: time.Hour})
	if _, err := s.VerifyIDToken(context.Background(), "op", raw); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("got %v; want ErrUnavailable", err)
	}
}

func TestProviderConfig_NativeClientIDs(t *testing.T) {
	c := idp.ProviderConfig{ID: "op", Issuer: "https://id.example", ClientID: "authgate", NativeClientIDs: []string{"has space"}}
	if ce, ok := errors.AsType[*idp.ConfigError](c.Validate()); !ok || ce.Field != "native_client_ids" {
		t.Errorf("got %v; want a *ConfigError for native_client_ids", c.Validate())
	}
	list, err := idp.ParseProviders([]byte(`[{"id":"op","issuer":"https://id.example","client_id":"authgate",
		"native_client_ids":["ios-app","android-app"]}]`), idp.Lookups{})
	if err != nil || strings.Join(list[0].NativeClientIDs, ",") != "ios-app,android-app" {
		t.Errorf("got %+v, %v; want both native client ids", list, err)
	}
}

func split(t *testing.T, raw string) (head, payload, sig string) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q is not a JWS", raw)
	}
	return parts[0], parts[1], parts[2]
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// flip changes one character in the middle of a base64url segment.
func flip(seg string) string {
	i := len(seg) / 2
	c := byte('A')
	if seg[i] == 'A' {
		c = 'B'
	}
	return seg[:i] + string(c) + seg[i+1:]
}

// reclaim sets claim k to v in a base64url JSON payload.
func reclaim(t *testing.T, payload, k, v string) string {
	t.Helper()
	claims := decodePayload(t, payload)
	claims[k] = v
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePayload(t *testing.T, payload string) jwt.MapClaims {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.MapClaims
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// hs256 signs payload's claims with HS256 under secret: the confusion a
// verifier that let the client secret stand for a key would fall for.
func hs256(t *testing.T, payload, secret string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, decodePayload(t, payload)).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
