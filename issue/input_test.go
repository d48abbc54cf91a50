package issue

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// AppendAudit exposes appendAudit to the package's external tests, which
// write through a real database.
var AppendAudit = appendAudit

var metadataTests = []struct {
	name, in string
	want     string // the canonical form; "" when refused
	err      string // part of the refusal
}{
	{"Empty", ``, `{}`, ""},
	{"EmptyObject", ` {} `, `{}`, ""},
	{"Canonical", `{ "b" : [1, 2.50, -0], "a" : "x<y" }`, `{"a":"x<y","b":[1,2.50,-0]}`, ""},
	{"DuplicateKeyLastWins", `{"a":1,"a":2}`, `{"a":2}`, ""},
	{"Escapes", `{"e":"\u00e9\ud83d\ude00\n\\u0000"}`, `{"e":"é😀\n\\u0000"}`, ""},
	{"BigInteger", `{"n":123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`, ""},
	{"SmallNumber", `{"n":1.5e-300}`, `{"n":1.5e-300}`, ""},
	{"DepthMax", `{"a":[{"b":[{"c":[{"d":[]}]}]}]}`, `{"a":[{"b":[{"c":[{"d":[]}]}]}]}`, ""},
	{"Null", `null`, "", "must be a JSON object"},
	{"Array", `[]`, "", "must be a JSON object"},
	{"String", `"x"`, "", "must be a JSON object"},
	{"Malformed", `{"a":}`, "", "must be a JSON object"},
	{"Trailing", `{} {}`, "", "must be a JSON object"},
	{"TrailingBracket", `{}]`, "", "must be a JSON object"},
	{"TooLong", `{"a":"` + strings.Repeat("x", MaxMetadataLen) + `"}`, "", "at most 4096 bytes"},
	{"InvalidUTF8", "{\"a\":\"\xff\"}", "", "UTF-8"},
	{"InvalidUTF8InKey", "{\"\xed\xa0\x80\":1}", "", "UTF-8"},
	{"NULInValue", `{"a":"x\u0000"}`, "", "NUL"},
	{"NULInKey", `{"\u0000":1}`, "", "NUL"},
	{"NULDeep", `{"a":[{"b":["\u0000"]}]}`, "", "NUL"},
	{"LoneHigh", `{"a":"\ud83d"}`, "", "surrogate"},
	{"LoneHighAtEnd", `{"a":"x\uD83D"}`, "", "surrogate"},
	{"LoneLow", `{"a":"\ude00"}`, "", "surrogate"},
	{"HighHigh", `{"a":"\ud83d\ud83d"}`, "", "surrogate"},
	{"HighThenText", `{"a":"\ud83dxxxxxx"}`, "", "surrogate"},
	{"LoneInKey", `{"\udfff":1}`, "", "surrogate"},
	{"DepthMaxPlusOne", `{"a":[{"b":[{"c":[{"d":[[]]}]}]}]}`, "", "nested at most 8"},
	{"FloatOverflow", `{"n":-1e309}`, "", "out of range"},
	{"ExponentTooLong", `{"n":0e1000}`, "", "out of range"},
	{"NegativeExponentTooLong", `{"n":1E-1000}`, "", "out of range"},
}

func TestValidMetadata(t *testing.T) {
	for _, tt := range metadataTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validMetadata(json.RawMessage(tt.in))
			var fe *FieldError
			switch {
			case tt.err == "" && (err != nil || string(got) != tt.want):
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			case tt.err != "" && (!errors.As(err, &fe) || fe.Field != "metadata" || !strings.Contains(fe.Msg, tt.err)):
				t.Fatalf("got %s, %v; want a metadata *FieldError mentioning %q", got, err, tt.err)
			}
		})
	}
}

// FuzzValidMetadata checks that what validMetadata accepts is what jsonb
// stores: a valid UTF-8 JSON object without \u0000, within the bounds, that
// validMetadata gives back unchanged.
func FuzzValidMetadata(f *testing.F) {
	for _, tt := range metadataTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := validMetadata(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v; want an ErrInvalid", err)
			}
			return
		}
		var m map[string]any
		if !utf8.Valid(got) || json.Unmarshal(got, &m) != nil || !bytes.Equal(nulFree(got), got) || len(got) > MaxMetadataLen {
			t.Fatalf("accepted %q as %q; want a storable JSON object", in, got)
		}
		if again, err := validMetadata(got); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("got %q, %v re-checking %q; want it unchanged", again, err, got)
		}
	})
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in        string
		maxRunes, bytes int
		want            string
	}{
		{"Plain", "curl/8.5", 10, 10, "curl/8.5"},
		{"InvalidUTF8", "a\xff\xfeb", 10, 10, "a\uFFFDb"},
		{"Controls", "a\x00b\tc\r\nd\x7fe\u0085f", 10, 20, "abcdef"},
		{"RuneBound", "ééé", 2, 10, "éé"},
		{"ByteBoundOnACharacter", "aéé", 10, 4, "aé"},
		{"NothingLeft", "\x00\x01", 5, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in, tt.maxRunes, tt.bytes); got != tt.want {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCleanUserAgent(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Plain", "Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"},
		{"Bad", "\xff\x00bad", "\uFFFDbad"},
		{"Long", strings.Repeat("é", 600), strings.Repeat("é", 512)},
		{"LongAfterControls", strings.Repeat("\x00", 600) + "ok", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanUserAgent(tt.in); got != tt.want {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestNulFree(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"None", `{"a":"b"}`, `{"a":"b"}`},
		{"Value", `{"a":"x\u0000y"}`, `{"a":"x\ufffdy"}`},
		{"Key", `{"\u0000":["\u0000\u0000"]}`, `{"\ufffd":["\ufffd\ufffd"]}`},
		{"EscapedBackslash", `{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{"EscapedBackslashThenNUL", `{"a":"\\\u0000"}`, `{"a":"\\\ufffd"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nulFree([]byte(tt.in)); string(got) != tt.want {
				t.Fatalf("got %s; want %s", got, tt.want)
			}
		})
	}
}
