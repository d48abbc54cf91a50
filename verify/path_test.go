package verify

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
)

// cleanPathTests also seed FuzzCleanPath. want is empty when an error is expected.
var cleanPathTests = []struct {
	name string
	in   string
	want string
}{
	{"Root", "/", "/"},
	{"Plain", "/events", "/events"},
	{"TrailingSlashKept", "/a/b/", "/a/b/"},
	{"DoubleSlash", "/a//b", "/a/b"},
	{"LeadingAndInnerDoubleSlashes", "//app//x/", "/app/x/"},
	{"OnlySlashes", "///", "/"},
	{"DotSegment", "/a/./b", "/a/b"},
	{"TrailingDot", "/a/.", "/a/"},
	{"RootDot", "/.", "/"},
	{"DotDot", "/public/../app/secret", "/app/secret"},
	{"TrailingDotDot", "/a/b/..", "/a/"},
	{"DotDotToRoot", "/a/..", "/"},
	{"DotDotThenSlash", "/a/b/../", "/a/"},
	{"DotsInNames", "/a.b/..c/c../.../.x", "/a.b/..c/c../.../.x"},
	{"EncodedSlashUpperAndLower", "/a%2fb%2F", "/a/b/"},
	{"EncodedSlashInName", "/projects/group%2Fname", "/projects/group/name"},
	{"EncodedSlashThenLiteralDotDot", "/a%2Fb/..", "/a/"},
	{"EncodedSlashBeforeLiteralDotDotSegment", "/a%2F/../b", "/b"},
	{"EncodedDotInName", "/a/%2e%2e%2e/b%2e/.%2ex", "/a/.../b./..x"},
	{"EncodedDoubleSlash", "/a%2F%2Fb", "/a/b"},
	{"DecodedOnce", "/a%252e%252e/b", "/a%2e%2e/b"},
	{"EncodedSpaceAndUTF8", "/caf%C3%A9/a%20b", "/café/a b"},
	{"EncodedQuestionMarkIsPath", "/a%3Fb", "/a?b"},
	{"QueryIgnored", "/a?x=/../..", "/a"},
	{"QueryIgnoredAfterDotDot", "/a/../b?c=%zz", "/b"},
	{"EmptyQuery", "/a?", "/a"},
	{"FragmentIgnored", "/a#frag", "/a"},
	{"FragmentIgnoredAfterEscape", "/a%41#/../..", "/aA"},
	{"Long", "/" + strings.Repeat("a/", 200) + "..", "/" + strings.Repeat("a/", 199)},

	{"DotDotAboveRoot", "/..", ""},
	{"DotDotAboveRootTrailing", "/../", ""},
	{"DotDotAboveRootLater", "/a/../../b", ""},
	{"EncodedDotDotAboveRoot", "/%2e%2e/x", ""},
	{"EncodedSlashDotDotAboveRoot", "/%2F..%2Fx", ""},

	// Decoding must not make a . or .. segment: proxies and apps disagree on it.
	{"EncodedDotDot", "/public/%2e%2e/app/secret", ""},
	{"EncodedDotDotUpper", "/public/%2E%2E/app", ""},
	{"EncodedDotDotMixedCase", "/public/%2E%2e/app", ""},
	{"EncodedDot", "/a/%2e/b", ""},
	{"DotThenEncodedDot", "/a/.%2e/b", ""},
	{"EncodedDotThenDot", "/a/%2e./b", ""},
	{"TrailingEncodedDotDot", "/a/b/%2e%2e", ""},
	{"DotDotEncodedSlash", "/events/..%2fcameras/x", ""},
	{"DotDotEncodedSlashUpper", "/events/..%2Fcameras/x", ""},
	{"EncodedSlashesAroundDotDot", "/a%2f..%2fb", ""},
	{"EncodedSlashDotDotTrailing", "/a/b%2F..", ""},
	{"EncodedSlashBeforeDotDot", "/a/%2F../b", ""},
	{"EncodedSlashAfterDot", "/a/.%2Fb", ""},
	{"TwoDotDotsEncodedSlashes", "/a/..%2F..%2Fb", ""},
	{"InvalidEscape", "/a%zz", ""},
	{"TruncatedEscape", "/a%4", ""},
	{"BarePercent", "/a%", ""},
	{"EncodedNUL", "/a%00b", ""},
	{"EncodedNewline", "/a%0Ab", ""},
	{"EncodedDEL", "/a%7f", ""},
	{"RawControl", "/a\tb", ""},
	{"Empty", "", ""},
	{"OnlyQuery", "?a=/b", ""},
	{"Relative", "a/b", ""},
	{"Asterisk", "*", ""},
	{"AbsoluteForm", "http://app.example/a", ""},
}

func TestCleanPath(t *testing.T) {
	for _, tt := range cleanPathTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanPath(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrBadPath) {
					t.Fatalf("CleanPath(%q) = %q, %v; want ErrBadPath", tt.in, got, err)
				}
				if status, code := Status(err); status != 403 || code != CodeInvalidPath {
					t.Fatalf("Status(%v) = %d, %s; want 403, %s", err, status, code, CodeInvalidPath)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CleanPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCleanPath_ErrorHidesQuery(t *testing.T) {
	_, err := CleanPath("/../x?api_key=secret")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v; want an error that does not show the query", err)
	}
}

func TestCleanPath_CleanPathDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { CleanPath("/events/42/?x=1") }); n != 0 {
		t.Fatalf("allocs per clean path = %v; want 0", n)
	}
}

// FuzzCleanPath checks CleanPath's guarantees, and checks each answer against
// path.Clean applied to url.PathUnescape's decoding.
func FuzzCleanPath(f *testing.F) {
	for _, tt := range cleanPathTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		got, err := CleanPath(uri)
		if err == nil && madeDots(beforeQuery(uri)) {
			t.Fatalf("CleanPath(%q) = %q; want ErrBadPath for a dot segment made by decoding", uri, got)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPath) || got != "" {
				t.Fatalf("CleanPath(%q) = %q, %v; want \"\" and ErrBadPath", uri, got, err)
			}
			return
		}
		switch {
		case !strings.HasPrefix(got, "/"):
			t.Fatalf("CleanPath(%q) = %q; want a leading /", uri, got)
		case strings.Contains(got, "//"), strings.Contains(got, "/./"), strings.Contains(got, "/../"),
			strings.HasSuffix(got, "/."), strings.HasSuffix(got, "/.."):
			t.Fatalf("CleanPath(%q) = %q; want no empty, . or .. segment", uri, got)
		case strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			t.Fatalf("CleanPath(%q) = %q; want no control character", uri, got)
		}
		// A decoded %25, %3F or %23 reads differently a second time.
		if !strings.ContainsAny(got, "%?#") {
			if again, err := CleanPath(got); again != got || err != nil {
				t.Fatalf("CleanPath(%q) = %q, %v; want %q again", got, again, err, got)
			}
		}
		decoded, err := url.PathUnescape(beforeQuery(uri))
		if err != nil {
			t.Fatalf("CleanPath(%q) = %q; url.PathUnescape refuses it: %v", uri, got, err)
		}
		want := path.Clean(decoded)
		if want != "/" && (strings.HasSuffix(decoded, "/") || strings.HasSuffix(decoded, "/.") || strings.HasSuffix(decoded, "/..")) {
			want += "/"
		}
		if got != want {
			t.Fatalf("CleanPath(%q) = %q; want %q (path.Clean of the decoded path)", uri, got, want)
		}
	})
}

// madeDots reports whether decoding p makes a . or .. segment that p does not
// spell out between literal slashes: some segment of p, split on its literal
// slashes, is neither . nor .. but decodes to something holding one.
func madeDots(p string) bool {
	for _, raw := range strings.Split(p, "/") {
		if raw == "." || raw == ".." {
			continue
		}
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			continue // refused for its escape anyway
		}
		for _, s := range strings.Split(decoded, "/") {
			if s == "." || s == ".." {
				return true
			}
		}
	}
	return false
}
