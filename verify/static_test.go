package verify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// Static keys for tables: valid, and distinct.
const (
	staticA = "home-assistant-0123456789"
	staticB = "kiosk-kitchen-0123456789"
)

func TestNewStaticKeys(t *testing.T) {
	h := testHasher(t)
	long := strings.Repeat("k", MaxCredentialLen+1)
	tests := []struct {
		name    string
		keys    []StaticKey
		hasher  *Hasher
		wantErr string // "" for success; else a part of the error, which must name the position
	}{
		{"Valid", []StaticKey{{Key: staticA, Name: "ha", Scopes: []string{"events:read"}}, {Key: staticB}}, h, ""},
		{"ExactlyMinLen", []StaticKey{{Key: strings.Repeat("k", MinStaticKeyLen)}}, h, ""},
		{"UTF8Name", []StaticKey{{Key: staticA, Name: "Küche"}}, h, ""},
		{"OneDotAllowed", []StaticKey{{Key: "secret.0123456789abcdef"}}, h, ""},
		{"UppercaseAGK", []StaticKey{{Key: "AGK_0123456789abcdefghij"}}, h, ""},
		{"NoKeys", nil, h, "no static keys"},
		{"NoHasher", []StaticKey{{Key: staticA}}, nil, "Hasher"},
		{"Short", []StaticKey{{Key: staticA}, {Key: strings.Repeat("k", MinStaticKeyLen-1)}}, h, "static key 2: the key is shorter"},
		{"Long", []StaticKey{{Key: long}}, h, "static key 1: the key is longer"},
		{"Space", []StaticKey{{Key: "home assistant 0123456789"}}, h, "static key 1: the key holds a character"},
		{"ControlCharacter", []StaticKey{{Key: staticA + "\x00"}}, h, "static key 1: the key holds a character"},
		{"NonASCII", []StaticKey{{Key: staticA + "é"}}, h, "static key 1: the key holds a character"},
		{"APIKeyShaped", []StaticKey{{Key: "agk_" + staticA}}, h, "static key 1: the key starts with agk_"},
		{"PersonalTokenShaped", []StaticKey{{Key: "agp_" + staticA}}, h, "static key 1: the key starts with agk_"},
		{"RefreshTokenShaped", []StaticKey{{Key: "agr_" + staticA}}, h, "static key 1: the key starts with agk_"},
		{"JWTShaped", []StaticKey{{Key: "eyJhbGci.eyJzdWIi.c2lnbmF0dXJl"}}, h, "static key 1: the key starts with agk_"},
		{"TwoDots", []StaticKey{{Key: "a.b.c!0123456789abcdef"}}, h, "static key 1: the key starts with agk_"},
		{"DuplicateKey", []StaticKey{{Key: staticA}, {Key: staticB}, {Key: staticA, Name: "again"}}, h,
			"static key 3: static key 1 has the same key"},
		{"DuplicateName", []StaticKey{{Key: staticA, Name: "ha"}, {Key: staticB, Name: "ha"}}, h,
			"static key 2: static key 1 has the same name"},
		{"NameTakesADefault", []StaticKey{{Key: staticA, Name: "static-2"}, {Key: staticB}}, h,
			"static key 2: static key 1 has the same name"},
		{"NameTooLong", []StaticKey{{Key: staticA, Name: strings.Repeat("n", 101)}}, h, "static key 1: the name"},
		{"NameControlCharacter", []StaticKey{{Key: staticA, Name: "ha\n"}}, h, "static key 1: the name"},
		{"NameInvalidUTF8", []StaticKey{{Key: staticA, Name: "ha\xff"}}, h, "static key 1: the name"},
		{"BadScope", []StaticKey{{Key: staticA, Scopes: []string{"events:read", "events read"}}}, h,
			"static key 1: scope 2 is not a valid scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewStaticKeys(tt.keys, tt.hasher)
			if tt.wantErr == "" {
				if err != nil || s.Len() != len(tt.keys) {
					t.Fatalf("NewStaticKeys = %v, %v; want %d keys", s, err, len(tt.keys))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewStaticKeys err = %v; want it to contain %q", err, tt.wantErr)
			}
			for _, k := range tt.keys {
				if strings.Contains(err.Error(), k.Key) {
					t.Fatalf("NewStaticKeys err = %q; it reveals a key", err)
				}
			}
		})
	}
}

func TestVerifier_StaticKey(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	all := newTestVerifierAll(t, keys, fixedClock(testNow), nil)
	none := newTestVerifier(t, keys.store(), fixedClock(testNow))
	ha := keys.creds["static-home-assistant"]
	tests := []struct {
		name     string
		v        *Verifier
		cred     string
		wantName string
		wantErr  error
	}{
		{"Allow", all, ha, "home assistant", nil},
		{"AllowDefaultName", all, keys.creds["static-2"], "static-2", nil},
		{"Unknown", all, keys.creds["static-unknown"], "", ErrUnknownKey},
		{"OneCharacterOff", all, ha[:len(ha)-1] + "!", "", ErrUnknownKey},
		{"Prefix", all, ha[:len(ha)-1], "", ErrUnknownKey},
		{"TooShortToBeOne", all, ha[:MinStaticKeyLen-1], "", ErrMalformed},
		{"NotEnabled", none, ha, "", ErrMalformed},
		{"APIKeyShapedIsNotLookedUpAsStatic", all, "agk_" + ha, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.v.Authenticate(context.Background(), tt.cred)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate err = %v; want %v", err, tt.wantErr)
			}
			if status, _ := Status(err); err != nil && (p != nil || status != 401) {
				t.Fatalf("Authenticate = %v, %v (status %d); want no principal and a 401", p, err, status)
			}
			if err != nil {
				return
			}
			if p.Kind != KindStaticKey || p.KeyName != tt.wantName || p.Subject != "static:"+tt.wantName ||
				p.KeyID != "static:"+tt.wantName || p.User != "" || p.Email != "" || len(p.Roles) != 0 {
				t.Fatalf("Authenticate = %+v; want static key %q", *p, tt.wantName)
			}
		})
	}
	p, _ := all.Authenticate(context.Background(), ha)
	if want := []string{"cameras:stream", "events:read"}; !slices.Equal(p.Scopes, want) {
		t.Fatalf("Scopes = %q; want %q", p.Scopes, want)
	}
}

// The key never appears in the log, whatever happens to it.
func TestHandler_StaticKeyNeverLogged(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	h := testHasher(t)
	var log bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := NewVerifier(keys.store(), h, Options{Now: fixedClock(testNow), Logger: logger, StaticKeys: keys.staticKeys(t, h)})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	NewHandler(v, logger, HandlerOptions{}).Register(e)
	ha := keys.creds["static-home-assistant"]
	for _, tc := range []struct {
		name, query, cred string
		want              int
	}{
		{"Allow", "", ha, 200},
		{"MissingScope", "?scope=admin:write", ha, 403},
		{"OneCharacterOff", "", ha[:len(ha)-1] + "!", 401},
		{"Extended", "", ha + "x", 401},
		{"Short", "", ha[:MinStaticKeyLen-1], 401},
		{"NoScopesKeyOnScopedRoute", "?scope=events:read", keys.creds["static-2"], 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth-request"+tc.query, nil)
			r.Header.Set("X-Original-Method", "GET")
			r.Header.Set("X-Original-URI", "/events")
			r.Header.Set("X-API-Key", tc.cred)
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status = %d; want %d", w.Code, tc.want)
			}
		})
	}
	if log.Len() == 0 {
		t.Fatal("nothing was logged; the scan proves nothing")
	}
	for _, k := range keys.static {
		if bytes.Contains(log.Bytes(), []byte(k.Key[:MinStaticKeyLen-1])) {
			t.Fatalf("the log holds static key %q:\n%s", k.Name, log.String())
		}
	}
}

func TestStaticKeys_AuthenticateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		skipOrFail(t, "allocation counts mean nothing under the race detector; scripts/test.sh runs the *DoesNotAllocate tests without -race")
	}
	keys := newFixtureKeys(t, testHasher(t))
	s := keys.staticKeys(t, testHasher(t))
	for _, cred := range []string{keys.creds["static-home-assistant"], keys.creds["static-unknown"],
		strings.Repeat("x", MaxCredentialLen)} {
		if n := testing.AllocsPerRun(100, func() { s.authenticate(cred) }); n != 0 {
			t.Fatalf("authenticate(%.8s…) allocates %v times; want 0", cred, n)
		}
	}
}

// FuzzStaticKey: whatever NewStaticKeys accepts verifies as itself, and only as
// itself, and it never accepts a key authgate would read as something else;
// whatever it refuses, its error does not quote the key.
func FuzzStaticKey(f *testing.F) {
	f.Add(staticA, "ha", staticA)
	f.Add(staticA, "", staticA+"x")
	f.Add("{{secret}}#0123456789abc", "", "")
	f.Add("agp_{{secret}}#0123456789abc", "", "")
	f.Add("agk_"+staticA, "", staticA)
	f.Add("a.b.c0123456789abcdefgh", "x", "a.b.c")
	f.Add(strings.Repeat("k", MinStaticKeyLen-1), "", "")
	f.Add(sampleKey.Reveal(), "k", sampleKey.Reveal())
	h := testHasher(f)
	keys := newFixtureKeys(f, h)
	f.Fuzz(func(t *testing.T, key, name, cred string) {
		s, err := NewStaticKeys([]StaticKey{{Key: key, Name: name}}, h)
		if err != nil {
			// A key made of our own words could appear in any message by chance;
			// one with a character our messages never use must not.
			if len(key) >= 8 && strings.ContainsAny(key, "#$%&*<>@[]^`{|}~") && strings.Contains(err.Error(), key) {
				t.Fatalf("NewStaticKeys err = %q; it reveals the key", err)
			}
			return
		}
		if sh, err := shapeOf(key); err != nil || sh != shapeOther || strings.Count(key, ".") >= 2 {
			t.Fatalf("NewStaticKeys accepted %q, of shape %v, %v", key, sh, err)
		}
		v, err := NewVerifier(keys.store(), h, Options{Logger: slog.New(slog.DiscardHandler), StaticKeys: s})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := v.Authenticate(context.Background(), key); err != nil || p.Kind != KindStaticKey {
			t.Fatalf("Authenticate(the static key) = %v, %v", p, err)
		}
		if p, err := v.Authenticate(context.Background(), cred); err == nil && p.Kind == KindStaticKey && cred != key {
			t.Fatalf("Authenticate(%q) passed as static key %q", cred, key)
		}
	})
}
