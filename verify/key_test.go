package verify

import (
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// A fixed, valid key for tables: prefix, lookup id, secret and checksum.
var sampleKey = Key{Prefix: PrefixAPIKey, LookupID: "AAAAbbbb0000", Secret: strings.Repeat("s3Cr", 8)}

func TestParseKey(t *testing.T) {
	valid := sampleKey.Reveal()
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"Valid", valid, nil},
		{"Empty", "", ErrMalformed},
		{"WrongPrefix", "agp_" + valid[4:], ErrMalformed},
		{"UpperPrefix", "AGK_" + valid[4:], ErrMalformed},
		{"TooShort", valid[:len(valid)-1], ErrMalformed},
		{"TooLong", valid + "0", ErrMalformed},
		{"TypoInSecret", flip(valid, 30), ErrMalformed},
		{"TypoInLookupID", flip(valid, 6), ErrMalformed},
		{"TypoInChecksum", flip(valid, len(valid)-1), ErrMalformed},
		{"Dash", valid[:10] + "-" + valid[11:], ErrMalformed},
		{"NonASCII", valid[:10] + "é" + valid[12:], ErrMalformed},
		{"Space", valid[:10] + " " + valid[11:], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(PrefixAPIKey, tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseKey(%q) err = %v; want %v", tt.in, err, tt.want)
			}
			if err == nil && k != sampleKey {
				t.Fatalf("ParseKey = %+v; want %+v", k, sampleKey)
			}
		})
	}
}

func TestNewKey_RoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := NewKey(PrefixAPIKey)
		s := k.Reveal()
		if len(s) != KeyLen {
			t.Fatalf("len(%q) = %d; want %d", s, len(s), KeyLen)
		}
		got, err := ParseKey(PrefixAPIKey, s)
		if err != nil || got != k {
			t.Fatalf("ParseKey(NewKey) = %+v, %v; want %+v", got, err, k)
		}
		if seen[k.LookupID] || seen[k.Secret] {
			t.Fatalf("NewKey repeated a random part: %v", k)
		}
		seen[k.LookupID], seen[k.Secret] = true, true
	}
}

func TestChecksum_IsCRC32IEEE(t *testing.T) {
	for _, s := range []string{"", "a", sampleKey.Display() + sampleKey.Secret, strings.Repeat("xyz", 100)} {
		if got, want := checksum(s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("checksum(%q) = %08x; want %08x", s, got, want)
		}
	}
}

func TestKey_StringHidesSecret(t *testing.T) {
	s := sampleKey.String()
	if strings.Contains(s, sampleKey.Secret) || !strings.HasPrefix(s, sampleKey.Display()) {
		t.Fatalf("String() = %q; want the display part without the secret", s)
	}
}

func TestRandomString_Alphabet(t *testing.T) {
	counts := map[rune]int{}
	for _, r := range RandomString(62 * 400) {
		if base62Value(byte(r)) < 0 {
			t.Fatalf("RandomString produced %q", r)
		}
		counts[r]++
	}
	if len(counts) != 62 {
		t.Fatalf("RandomString used %d distinct characters; want 62", len(counts))
	}
	for r, n := range counts { // expected 400 each; 200 is more than 10 standard deviations away
		if n < 200 || n > 600 {
			t.Errorf("character %q appeared %d times in 24800; want about 400", r, n)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add(sampleKey.Reveal())
	f.Add("")
	f.Add("agk_")
	f.Add(strings.Repeat("a", KeyLen))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(PrefixAPIKey, s)
		if err != nil {
			return
		}
		if k.Reveal() != s { // anything accepted must be exactly what we would print
			t.Fatalf("ParseKey(%q) accepted a key that re-encodes as %q", s, k.Reveal())
		}
	})
}
