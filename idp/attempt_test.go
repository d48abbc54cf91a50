package idp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/idp"
)

var attemptKey = []byte("0123456789abcdef0123456789abcdef")

func TestSealAttempt_RoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := idp.Attempt{Provider: "pocket", State: "st", Nonce: "no", Verifier: "ve", Caller: `{"rd":"https://app.home.example/x?y=1"}`, Created: now}
	sealed, err := idp.SealAttempt(attemptKey, a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "pocket") || strings.ContainsAny(sealed, "=+/;, ") {
		t.Errorf("got %q; want opaque base64url", sealed)
	}
	got, err := idp.OpenAttempt(attemptKey, sealed, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Errorf("got %+v; want %+v", got, a)
	}
}

func TestOpenAttempt_Refusals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sealed, err := idp.SealAttempt(attemptKey, idp.Attempt{Provider: "p", State: "s", Created: now})
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(sealed)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '.' {
		flipped[len(flipped)/2] = 'A'
	}
	other := []byte("fedcba9876543210fedcba9876543210")
	tests := []struct {
		name   string
		key    []byte
		sealed string
		at     time.Time
	}{
		{"Tampered", attemptKey, string(flipped), now},
		{"OtherKey", other, sealed, now},
		{"Truncated", attemptKey, sealed[:10], now},
		{"NotBase64", attemptKey, "!!!", now},
		{"Expired", attemptKey, sealed, now.Add(idp.MaxAttemptAge + time.Second)},
		{"FromTheFuture", attemptKey, sealed, now.Add(-2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := idp.OpenAttempt(tt.key, tt.sealed, tt.at); !errors.Is(err, idp.ErrExpired) {
				t.Errorf("got %v; want ErrExpired", err)
			}
		})
	}
}

func TestSealAttempt_BadKey(t *testing.T) {
	if _, err := idp.SealAttempt([]byte("short"), idp.Attempt{}); err == nil {
		t.Error("got nil; want an error for a 5-byte key")
	}
}
