package verify

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCredential(t *testing.T) {
	k := sampleKey.Reveal()
	tests := []struct {
		name       string
		header     http.Header
		queryParam string
		uri        string
		want       string
		wantErr    error
	}{
		{"None", http.Header{}, "", "/", "", ErrNoCredential},
		{"APIKeyHeader", http.Header{"X-Api-Key": {k}}, "", "/", k, nil},
		{"Bearer", http.Header{"Authorization": {"Bearer " + k}}, "", "/", k, nil},
		{"BearerLowercaseScheme", http.Header{"Authorization": {"bearer " + k}}, "", "/", k, nil},
		{"BasicIsNotOurs", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", "/", "", ErrNoCredential},
		{"BasicPlusAPIKey", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}, "X-Api-Key": {k}}, "", "/", k, nil},
		{"SameInBoth", http.Header{"Authorization": {"Bearer " + k}, "X-Api-Key": {k}}, "", "/", k, nil},
		{"DifferentInBoth", http.Header{"Authorization": {"Bearer " + k}, "X-Api-Key": {k + "x"}}, "", "/", "", ErrMalformed},
		{"RepeatedHeader", http.Header{"X-Api-Key": {k, k}}, "", "/", "", ErrMalformed},
		{"EmptyBearer", http.Header{"Authorization": {"Bearer "}}, "", "/", "", ErrMalformed},
		{"EmptyAPIKey", http.Header{"X-Api-Key": {""}}, "", "/", "", ErrMalformed},
		{"Oversized", http.Header{"X-Api-Key": {strings.Repeat("a", MaxCredentialLen+1)}}, "", "/", "", ErrMalformed},
		{"ControlCharacter", http.Header{"X-Api-Key": {"abc\x01def"}}, "", "/", "", ErrMalformed},
		{"InnerSpace", http.Header{"Authorization": {"Bearer abc def"}}, "", "/", "", ErrMalformed},
		{"QueryIgnoredWithoutOptIn", http.Header{}, "", "/cam?api_key=" + k, "", ErrNoCredential},
		{"QueryWhenOptedIn", http.Header{}, "api_key", "/cam?api_key=" + k, k, nil},
		{"QueryOtherParam", http.Header{}, "api_key", "/cam?token=" + k, "", ErrNoCredential},
		{"QueryRepeated", http.Header{}, "api_key", "/cam?api_key=" + k + "&api_key=" + k, "", ErrMalformed},
		{"QueryAndHeaderDiffer", http.Header{"X-Api-Key": {k}}, "api_key", "/cam?api_key=other", "", ErrMalformed},
		{"QueryUnparseable", http.Header{}, "api_key", "/cam?api_key=%zz", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Credential(tt.header, tt.queryParam, tt.uri)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Credential = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzCredential(f *testing.F) {
	f.Add("Bearer "+sampleKey.Reveal(), sampleKey.Reveal(), "/x?k=v", "k")
	f.Add("Basic abc", "", "/", "")
	f.Fuzz(func(t *testing.T, authz, apiKey, uri, param string) {
		h := http.Header{}
		if authz != "" {
			h["Authorization"] = []string{authz}
		}
		if apiKey != "" {
			h["X-Api-Key"] = []string{apiKey}
		}
		got, err := Credential(h, param, uri)
		if err != nil {
			return
		}
		if got == "" || len(got) > MaxCredentialLen || !visibleASCII(got) {
			t.Fatalf("Credential accepted %q", got)
		}
	})
}

func TestShapeOf(t *testing.T) {
	k := sampleKey.Reveal()
	tests := []struct {
		name    string
		in      string
		want    shape
		wantErr error
	}{
		{"APIKey", k, shapeAPIKey, nil},
		{"APIKeyPrefixOnly", "agk_x", shapeAPIKey, nil}, // ParseKey refuses it next
		{"JWT", "eyJh.eyJz.c2ln", shapeJWT, nil},
		{"JWTAllAlphabet", "aZ09-_.b.c", shapeJWT, nil},
		{"RefreshToken", "agr_" + k[4:], 0, errRefreshToken},
		{"PersonalToken", "agp_" + k[4:], shapePersonalToken, nil},
		{"PersonalTokenPrefixOnly", "agp_x", shapePersonalToken, nil},
		{"Empty", "", shapeOther, nil},
		{"OneSegment", "abc", shapeOther, nil},
		{"TwoSegments", "a.b", shapeOther, nil},
		{"FourSegments", "a.b.c.d", shapeOther, nil},
		{"EmptyHeader", ".b.c", shapeOther, nil},
		{"EmptyPayload", "a..c", shapeOther, nil},
		{"EmptySignature", "a.b.", shapeOther, nil},
		{"Padding", "a.b.c=", shapeOther, nil},
		{"StandardBase64", "a+.b/.c", shapeOther, nil},
		{"OtherVendorPrefix", "ghp_" + k[4:], shapeOther, nil},
		{"UppercasePrefix", "AGK_" + k[4:], shapeOther, nil},
		{"LongestJWT", strings.Repeat("a", MaxCredentialLen-4) + ".b.c", shapeJWT, nil},
		{"TooLong", strings.Repeat("a", MaxCredentialLen-3) + ".b.c", 0, errTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shapeOf(tt.in)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("shapeOf = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && (got != 0 || !errors.Is(err, ErrMalformed)) {
				t.Fatalf("shapeOf err = %v; want it to be ErrMalformed", err)
			}
		})
	}
}

// visibleASCII and jwtShaped read eight bytes at a time; they must answer as
// the plain byte loops they replace, for every length and every byte at every
// position.
func TestShapeChecks_AgreeWithByteLoops(t *testing.T) {
	refVisible := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x21 || s[i] > 0x7e {
				return false
			}
		}
		return true
	}
	refJWT := func(s string) bool {
		segs := strings.Split(s, ".")
		if len(segs) != 3 {
			return false
		}
		for _, seg := range segs {
			if seg == "" || strings.Trim(seg, base62+"-_") != "" {
				return false
			}
		}
		return true
	}
	check := func(s string) {
		t.Helper()
		if got, want := visibleASCII(s), refVisible(s); got != want {
			t.Errorf("visibleASCII(%q) = %v; want %v", s, got, want)
		}
		if got, want := jwtShaped(s), refJWT(s); got != want {
			t.Errorf("jwtShaped(%q) = %v; want %v", s, got, want)
		}
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "a..c", ".b.c", "a.b.", "a.b.c.d", "a.b", "eyJ.eyJ.sig-_",
		"aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbb.ccccccccccccccccccc"} {
		check(s)
	}
	base := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfYWxpY2UifQ.c2lnbmF0dXJlLV8"
	for n := 0; n <= len(base); n++ {
		check(base[:n])
	}
	for pos := 0; pos < len(base); pos++ {
		for c := 0; c < 256; c++ {
			b := []byte(base)
			b[pos] = byte(c)
			check(string(b))
		}
	}
}
