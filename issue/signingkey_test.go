package issue_test

import (
	"bytes"
	"testing"

	"github.com/authgate/authgate/issue"
)

// testSealer is the sealer of every signing-key test: a fixed key, as cmd
// would derive from a fixed AUTHGATE_SECRET.
func testSealer(t testing.TB) *issue.Sealer {
	t.Helper()
	s, err := issue.NewSealer([]byte("sealer-key-sealer-key-sealer-key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealer_KeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := issue.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer with a %d-byte key: no error; want one (32 bytes only)", n)
		}
	}
}

func TestSealer_RoundTrip(t *testing.T) {
	s := testSealer(t)
	plain := []byte("PKCS#8 DER would be here")
	a, b := s.Seal("kid-1", plain), s.Seal("kid-1", plain)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same key are equal; want a fresh nonce each time")
	}
	if bytes.Contains(a, plain) {
		t.Fatal("the sealed form holds the plaintext")
	}
	for _, sealed := range [][]byte{a, b} {
		got, err := s.Open("kid-1", sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}
}

func TestSealer_OpenRefusesTampering(t *testing.T) {
	s := testSealer(t)
	sealed := s.Seal("kid-1", []byte("private key"))
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	other, err := issue.NewSealer([]byte("another-key-another-key-another!"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		sealer *issue.Sealer
		kid    string
		sealed []byte
	}{
		{"FlippedNonce", s, "kid-1", flip(0)},
		{"FlippedCiphertext", s, "kid-1", flip(24)},
		{"FlippedTag", s, "kid-1", flip(len(sealed) - 1)},
		{"SwappedKid", s, "kid-2", sealed},
		{"EmptyKid", s, "", sealed},
		{"OtherSecret", other, "kid-1", sealed},
		{"Truncated", s, "kid-1", sealed[:len(sealed)-1]},
		{"ShorterThanNonce", s, "kid-1", sealed[:10]},
		{"Empty", s, "kid-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.sealer.Open(tt.kid, tt.sealed); err == nil {
				t.Fatalf("Open = %q, nil; want an error", got)
			}
		})
	}
}
