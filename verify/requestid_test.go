package verify

import (
	"strings"
	"testing"
)

func TestValidRequestID(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   string
		want bool
	}{
		{"Hex", "9c2f0e7d41a84b6e8f1d3a5b7c9e0f12", true},
		{"UUID", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"OneByte", "x", true},
		{"AtMaxLen", strings.Repeat("x", MaxRequestIDLen), true},
		{"VisibleASCIIEnds", "!~", true},
		{"OwnFormat", "AbCdEfGh-1z", true},
		{"Empty", "", false},
		{"OverMaxLen", strings.Repeat("x", MaxRequestIDLen+1), false},
		{"Space", "a b", false},
		{"Tab", "a\tb", false},
		{"Newline", "a\nX-Auth-User: admin", false},
		{"CarriageReturn", "a\rb", false},
		{"NUL", "a\x00b", false},
		{"DEL", "a\x7fb", false},
		{"NonASCII", "café", false},
		{"HighByte", "a\xffb", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidRequestID(tt.id); got != tt.want {
				t.Fatalf("ValidRequestID(%q) = %t; want %t", tt.id, got, tt.want)
			}
		})
	}
}
