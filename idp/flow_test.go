package idp_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/idp"
)

// fakeOP serves a discovery document and a token endpoint whose answer the
// test picks; it signs nothing, so it serves only the refusals that come
// before an ID token is verified.
type fakeOP struct {
	srv         *httptest.Server
	issParam    bool
	tokenStatus int
	tokenBody   func(r *http.Request) string // when set, the token endpoint answers 200 with it
	down        atomic.Int32                 // discovery answers 503 this many more times
}

func startFakeOP(t *testing.T, issParam bool) *fakeOP {
	t.Helper()
	f := &fakeOP{issParam: issParam, tokenStatus: http.StatusBadRequest}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if f.down.Add(-1) >= 0 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256", "none", "HS256"},
			"authorization_response_iss_parameter_supported": f.issParam,
		})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if f.tokenBody != nil {
			w.Write([]byte(f.tokenBody(r)))
			return
		}
		w.WriteHeader(f.tokenStatus)
		w.Write([]byte(`{"error":"invalid_grant"}`))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func newSet(t *testing.T, cfgs ...idp.ProviderConfig) *idp.Set {
	t.Helper()
	s, err := idp.New(context.Background(), cfgs, idp.Options{Log: slog.New(slog.DiscardHandler),
		RetryMin: 20 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

const redirect = "https://auth.home.example/sso/one/callback"

func TestBegin_AuthorizationURL(t *testing.T) {
	op := startFakeOP(t, false)
	s := newSet(t, idp.ProviderConfig{ID: "one", Issuer: op.srv.URL, ClientID: "authgate"})
	authURL, a, err := s.Begin("one", redirect)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	for k, want := range map[string]string{"client_id": "authgate", "response_type": "code", "redirect_uri": redirect,
		"state": a.State, "nonce": a.Nonce, "code_challenge_method": "S256", "scope": "openid email profile"} {
		if got := q.Get(k); got != want {
			t.Errorf("got %s=%q; want %q", k, got, want)
		}
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge") == a.Verifier {
		t.Errorf("got code_challenge %q; want the S256 of the verifier", q.Get("code_challenge"))
	}
	_, b, _ := s.Begin("one", redirect)
	if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || len(a.State) < 40 {
		t.Errorf("got %+v and %+v; want fresh random values per attempt", a, b)
	}
	if _, _, err := s.Begin("nope", redirect); !errors.Is(err, idp.ErrUnknownProvider) {
		t.Errorf("got %v; want ErrUnknownProvider", err)
	}
}

func TestFinish_Refusals(t *testing.T) {
	plain := startFakeOP(t, false)
	strict := startFakeOP(t, true)
	s := newSet(t, idp.ProviderConfig{ID: "one", Issuer: plain.srv.URL, ClientID: "authgate"},
		idp.ProviderConfig{ID: "two", Issuer: strict.srv.URL, ClientID: "authgate"})
	_, one, _ := s.Begin("one", redirect)
	_, two, _ := s.Begin("two", redirect)
	tests := []struct {
		name     string
		provider string
		a        idp.Attempt
		q        url.Values
		want     error
	}{
		{"WrongState", "one", one, url.Values{"state": {two.State}, "code": {"c"}}, idp.ErrExpired},
		{"NoState", "one", one, url.Values{"code": {"c"}}, idp.ErrExpired},
		{"EmptyAttempt", "one", idp.Attempt{Provider: "one"}, url.Values{"state": {""}, "code": {"c"}}, idp.ErrExpired},
		{"WrongProvider", "two", one, url.Values{"state": {one.State}, "code": {"c"}}, idp.ErrExpired},
		{"IssMismatch", "one", one, url.Values{"state": {one.State}, "code": {"c"}, "iss": {strict.srv.URL}}, idp.ErrInvalid},
		{"IssTwice", "one", one, url.Values{"state": {one.State}, "code": {"c"}, "iss": {plain.srv.URL, plain.srv.URL}}, idp.ErrInvalid},
		{"IssMissingWhenAdvertised", "two", two, url.Values{"state": {two.State}, "code": {"c"}}, idp.ErrInvalid},
		{"IssMismatchOnError", "two", two, url.Values{"state": {two.State}, "error": {"access_denied"}, "iss": {plain.srv.URL}}, idp.ErrInvalid},
		{"ErrorParam", "one", one, url.Values{"state": {one.State}, "error": {"access_denied"}}, idp.ErrDenied},
		{"ErrorParamWithIss", "two", two, url.Values{"state": {two.State}, "error": {"access_denied"}, "iss": {strict.srv.URL}}, idp.ErrDenied},
		{"NoCode", "one", one, url.Values{"state": {one.State}}, idp.ErrInvalid},
		{"CodeRefused", "one", one, url.Values{"state": {one.State}, "code": {"used"}}, idp.ErrExpired},
		{"UnknownProvider", "nope", idp.Attempt{Provider: "nope", State: "x"}, url.Values{"state": {"x"}}, idp.ErrUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Finish(context.Background(), tt.provider, redirect, tt.a, tt.q)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
		})
	}
}

func TestFinish_TokenEndpointDown(t *testing.T) {
	op := startFakeOP(t, false)
	s := newSet(t, idp.ProviderConfig{ID: "one", Issuer: op.srv.URL, ClientID: "authgate"})
	_, a, _ := s.Begin("one", redirect)
	op.tokenStatus = http.StatusBadGateway
	_, err := s.Finish(context.Background(), "one", redirect, a, url.Values{"state": {a.State}, "code": {"c"}})
	if !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("got %v; want ErrUnavailable for a 502", err)
	}
	op.srv.Close()
	_, err = s.Finish(context.Background(), "one", redirect, a, url.Values{"state": {a.State}, "code": {"c"}})
	if !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("got %v; want ErrUnavailable for a closed port", err)
	}
}

func TestNew_UnreachableDiscoveryRetries(t *testing.T) {
	op := startFakeOP(t, false)
	op.down.Store(3)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	s := newSet(t, idp.ProviderConfig{ID: "one", Issuer: op.srv.URL, ClientID: "a"},
		idp.ProviderConfig{ID: "gone", Issuer: closed, ClientID: "a"})
	if _, _, err := s.Begin("one", redirect); !errors.Is(err, idp.ErrUnavailable) {
		t.Fatalf("got %v; want ErrUnavailable before discovery succeeds", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !s.Ready("one") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := s.Begin("one", redirect); err != nil {
		t.Errorf("got %v after the provider came up; want it ready", err)
	}
	if _, _, err := s.Begin("gone", redirect); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("got %v; want ErrUnavailable for a provider that never answers", err)
	}
	if got := s.Providers(); len(got) != 2 || got[0].ID != "one" || got[1].Name != "gone" {
		t.Errorf("got %+v; want both providers, in order", got)
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	_, err := idp.New(context.Background(), []idp.ProviderConfig{{ID: "p", Issuer: "http://id.example", ClientID: "a"}}, idp.Options{})
	if ce, ok := errors.AsType[*idp.ConfigError](err); !ok || ce.Field != "issuer" {
		t.Errorf("got %v; want a ConfigError on issuer", err)
	}
}

// TestFinish_UnsignedOrHMACIDToken: an ID token with alg none, or one signed
// HS256 with the client secret (a key the provider does not publish), is
// refused though every claim is right.
func TestFinish_UnsignedOrHMACIDToken(t *testing.T) {
	op := startFakeOP(t, false)
	s := newSet(t, idp.ProviderConfig{ID: "one", Issuer: op.srv.URL, ClientID: "authgate", ClientSecret: "client-secret"})
	for name, sign := range map[string]func(jwt.MapClaims) string{
		"AlgNone": func(c jwt.MapClaims) string {
			raw, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return raw
		},
		"HS256WithClientSecret": func(c jwt.MapClaims) string {
			raw, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("client-secret"))
			return raw
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, a, err := s.Begin("one", redirect)
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{"iss": op.srv.URL, "aud": "authgate", "sub": "mallory", "nonce": a.Nonce,
				"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
			op.tokenBody = func(*http.Request) string {
				return `{"access_token":"x","token_type":"Bearer","id_token":"` + sign(claims) + `"}`
			}
			_, err = s.Finish(context.Background(), "one", redirect, a, url.Values{"state": {a.State}, "code": {"c"}})
			if !errors.Is(err, idp.ErrInvalid) {
				t.Errorf("got %v; want ErrInvalid", err)
			}
		})
	}
}
