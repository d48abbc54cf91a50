package portal

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The configured cookie domains the tests run against. xn--bcher-kva.example
// (bücher.example) is there to show that a punycode label the operator wrote is
// fine while one an attacker adds below a domain is not.
var testDomains = []string{"home.example", "lab.example.net", "xn--bcher-kva.example"}

func newTestDomains(tb testing.TB, localHTTP bool, names ...string) *Domains {
	tb.Helper()
	if len(names) == 0 {
		names = testDomains
	}
	d, err := NewDomains(names, localHTTP)
	if err != nil {
		tb.Fatalf("NewDomains(%q) = %v", names, err)
	}
	return d
}

type returnURLCase struct {
	name string
	raw  string
	want string // "" means refused
}

// acceptedCases are return URLs that must come back, normalised as shown.
var acceptedCases = []returnURLCase{
	{"Apex", "https://home.example/events", "https://home.example/events"},
	{"ApexNoPath", "https://home.example", "https://home.example"},
	{"ApexRoot", "https://home.example/", "https://home.example/"},
	{"SubdomainPortQuery", "https://cams.home.example:8443/x?y=1", "https://cams.home.example:8443/x?y=1"},
	{"DeepSubdomain", "https://a.b.c.cams.home.example/deep/path", "https://a.b.c.cams.home.example/deep/path"},
	{"ExplicitDefaultPort", "https://home.example:443/", "https://home.example:443/"},
	{"HighestPort", "https://home.example:65535/", "https://home.example:65535/"},
	{"UppercaseSchemeAndHost", "HTTPS://Cams.HOME.Example/Events", "https://cams.home.example/Events"},
	{"FragmentDropped", "https://home.example/x?y=1#/admin", "https://home.example/x?y=1"},
	{"EmptyFragmentDropped", "https://home.example/x#", "https://home.example/x"},
	{"SecondDomain", "https://grafana.lab.example.net/d/abc?orgId=1&from=now-6h", "https://grafana.lab.example.net/d/abc?orgId=1&from=now-6h"},
	{"ConfiguredPunycodeDomain", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
	{"SubdomainOfPunycodeDomain", "https://shop.xn--bcher-kva.example/", "https://shop.xn--bcher-kva.example/"},
	{"HyphenAndDigitLabels", "https://cam-01.home.example/", "https://cam-01.home.example/"},
	{"EncodedQuery", "https://home.example/search?q=a%20b&next=%2Fx", "https://home.example/search?q=a%20b&next=%2Fx"},
	{"BracesReencodedInPath", "https://home.example/a{b}?q={x}|y", "https://home.example/a%7Bb%7D?q={x}|y"},
	// A URL or a dot-segment in the path stays on our host: what the app
	// there makes of it is the app's business (PayloadsAllTheThings "creating
	// folder as their domain"; oauth2-proxy "RD parameter" rows, on our host).
	{"URLInPath", "https://home.example/https://evil.com/", "https://home.example/https://evil.com/"},
	{"URLInQuery", "https://home.example/?rd=https://evil.com", "https://home.example/?rd=https://evil.com"},
	{"EncodedDotsInPath", "https://home.example/%2e%2e/x", "https://home.example/%2e%2e/x"},
	{"DotSegmentsInPath", "https://home.example/a/../b", "https://home.example/a/../b"},
	{"AtSignInPath", "https://home.example/@evil.com", "https://home.example/@evil.com"},
	{"AtSignInQuery", "https://home.example/?u=evil.com@x", "https://home.example/?u=evil.com@x"},
}

// refusedCases are open-redirect vectors, each refused. The hosts of the
// public lists are mapped onto the test configuration: their whitelisted
// domain (www.whitelisteddomain.tld, example.com) becomes home.example and
// their attacker (google.com, localdomain.pw) becomes evil.com. Sources:
//
//   - [O2P]  oauth2-proxy testdata/openredirects.txt, the corpus run against
//     pkg/app/redirect (itself drawn from cujanovic/Open-Redirect-Payloads);
//   - [O2PV] oauth2-proxy pkg/app/redirect/validator_test.go (whitespace rows);
//   - [AUTH] Authelia internal/utils/url_test.go, TestIsRedirectionSafe_*;
//   - [PATT] PayloadsAllTheThings, "Open Redirect" README, Filter Bypass;
//   - [OWASP] OWASP Unvalidated Redirects and Forwards Cheat Sheet;
//   - [AG]   authgate's own rule (label boundary, punycode, ports, length).
//
// TestDomains_ReturnURL_Corpus adds the O2P corpus's prefix × target families.
var refusedCases = []returnURLCase{
	// Not absolute https.
	{"Empty", "", ""},
	{"RelativePath", "/events", ""},                                        // [AG] only absolute URLs
	{"NoScheme", "home.example/events", ""},                                // [O2PV] Missing Protocol
	{"ProtocolRelative", "//evil.com", ""},                                 // [O2P] [PATT]
	{"ProtocolRelativeToUs", "//home.example/x", ""},                       // [AG] relative even when ours
	{"PlainHTTP", "http://home.example/", ""},                              // [AUTH] BadScheme
	{"PlainHTTPSubdomain", "http://secure.home.example", ""},               // [AUTH] BadScheme
	{"FTP", "ftp://secure.home.example", ""},                               // [AUTH] BadScheme
	{"WebSocket", "wss://home.example/", ""},                               // [AG] not a page
	{"HTTPSNoSlashes", "https:evil.com", ""},                               // [PATT] [O2P] https:google.com
	{"HTTPSNoSlashesOurs", "https:home.example", ""},                       // [AG]
	{"HTTPSOneSlash", "https:/home.example/", ""},                          // [AG]
	{"HTTPSSlashBackslash", `https:/\evil.com/`, ""},                       // [O2P] /https:/%5c
	{"HTTPSEncodedBackslash", "https:/%5cevil.com/", ""},                   // [O2P]
	{"HTTPSTripleSlash", "https:///evil.com/%2e%2e", ""},                   // [O2P]
	{"HTTPSTripleSlashUserinfo", "https:///home.example@evil.com/", ""},    // [O2P]
	{"SchemeInPath", "/https://evil.com", ""},                              // [O2P]
	{"EncodedScheme", "%68%74%74%70%3a%2f%2f%65%76%69%6c%2e%63%6f%6d", ""}, // [O2P]
	{"EncodedSlashes", "/%2f%2fevil.com", ""},                              // [O2P]
	{"LeadingSpace", " https://home.example/", ""},                         // [AG]
	{"LeadingTab", "\thttps://home.example/", ""},                          // [AG]
	{"TrailingNewline", "https://home.example/\n", ""},                     // [AG]

	// Script and data schemes.
	{"JavaScript", "javascript:alert(1)", ""},                                                                      // [O2P] [PATT]
	{"JavaScriptMixedCase", "jaVAscript://home.example//%0d%0aalert(1);//", ""},                                    // [O2P]
	{"JavaScriptComment", "javascript://home.example?%a0alert%281%29", ""},                                         // [O2P]
	{"JavaScriptHTTPSComment", "javascript://https://home.example/?z=%0Aalert(1)", ""},                             // [O2P]
	{"JavaScriptTab", "java%09script:alert(1)", ""},                                                                // [O2P]
	{"JavaScriptCRLF", "java%0d%0ascript%0d%0a:alert(0)", ""},                                                      // [O2P] [PATT]
	{"JavaScriptRawControls", "ja\nva\tscript\r:alert(1)", ""},                                                     // [O2P]
	{"JavaScriptEntity", "Javas%26%2399;ript:alert(1)", ""},                                                        // [O2P]
	{"JavaScriptOctal", `\152\141\166\141\163\143\162\151\160\164\072alert(1)`, ""},                                // [O2P]
	{"JavaScriptUnicodeEscapes", `\u006A\u0061\u0076\u0061\u0073\u0063\u0072\u0069\u0070\u0074\u003aalert(1)`, ""}, // [O2P]
	{"JavaScriptAfterSlashes", "//javascript:alert(1)", ""},                                                        // [O2P]
	{"JavaScriptAfterAngles", "<>javascript:alert(1);", ""},                                                        // [O2P]
	{"JavaScriptControlPrefix", "/x:1/:///%01javascript:alert(document.cookie)/", ""},                              // [O2P]
	{"DataHTML", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", ""},                                 // [O2P] [PATT]
	{"DataNamedLikeUs", "data:home.example;text/html,<script>alert(1)</script>", ""},                               // [O2P]
	{"VBScript", "vbscript:msgbox(1)", ""},                                                                         // [OWASP]
	{"File", "file:///etc/passwd", ""},                                                                             // [AG]
	{"XSSInJSString", `";alert(0);//`, ""},                                                                         // [O2P] [PATT]
	{"EncodedSchemePrefixTab", "%19Jav%09asc%09ript:https%20://home.example/%250Aconfirm%25281%2529", ""},          // [O2P]

	// Backslashes, which browsers read as slashes.
	{"BackslashSlash", `/\evil.com`, ""},                                    // [O2PV] Escape Double Slash
	{"SlashBackslashTwice", `/\/\/evil.com/`, ""},                           // [O2P]
	{"BackslashEscapedSlashes", `\/\/evil.com/`, ""},                        // [O2P] [PATT]
	{"BackslashBeforeAt", `https://evil.com\@home.example`, ""},             // [O2P]
	{"BackslashInHost", `https://evil.com\.home.example/`, ""},              // [O2P]
	{"BackslashInPath", `https://home.example/\evil.com`, ""},               // [AG]
	{"BackslashAfterColonUserinfo", `https://:@evil.com\@home.example`, ""}, // [O2P]
	{"SlashesThenBackslashAt", `////\;@evil.com`, ""},                       // [O2P]

	// Whitespace and controls ([O2PV] Space/Tab/Vertical Tab/New Line/Carriage Return rows).
	{"SpaceSlash", "/ /evil.com", ""},
	{"SpaceBackslash", `/ \evil.com`, ""},
	{"TabSlash", "/\t/evil.com", ""},
	{"TabBackslash", "/\t\\evil.com", ""},
	{"VerticalTabSlash", "/\v/evil.com", ""},
	{"NewlineSlash", "/\n/evil.com", ""},
	{"CarriageReturnSlash", "/\r/evil.com", ""},
	{"DoubleTab", "/\t/\t\\evil.com", ""},
	{"DotSlashBackslash", `/./\evil.com`, ""},
	{"DotDotBackslash", `/./../../\evil.com`, ""},
	{"TabInScheme", "ht\ttps://home.example/", ""},                  // [AG] browsers drop tabs
	{"NewlineInHost", "https://ho\nme.example/", ""},                // [AG]
	{"TabInHost", "https://evil.com\thome.example/", ""},            // [O2P] \t
	{"SpaceInPath", "https://home.example/a b", ""},                 // [AG]
	{"NulInHost", "https://evil\x00.home.example/", ""},             // [AG]
	{"DELInPath", "https://home.example/\x7f", ""},                  // [AG]
	{"EncodedTabAuthority", "https://%09/evil.com", ""},             // [O2P]
	{"EncodedTabAfterSlash", "/%09/evil.com", ""},                   // [O2P]
	{"EncodedNewlineHost", "https://home.example%0a.evil.com/", ""}, // [AG]
	{"EncodedCRHost", "https://home.example%0d/", ""},               // [AG]
	{"EncodedSpaceHost", "https://home.example%20/", ""},            // [AG]
	{"EncodedNulHost", "https://evil%00.com", ""},                   // [O2P] [PATT] %00

	// Userinfo ("browser will redirect to anything after the @").
	{"UserinfoOurs", "https://home.example@evil.com/", ""},                        // [O2P] [PATT]
	{"UserinfoToUs", "https://evil.com@home.example/", ""},                        // [AG] userinfo even when the host is ours
	{"UserinfoUserPass", "https://user:pass@home.example/", ""},                   // [AG]
	{"UserinfoEmpty", "https://@home.example/", ""},                               // [AG]
	{"UserinfoColonOnly", "https://:@home.example/", ""},                          // [AG]
	{"UserinfoSemicolon", "https://;@evil.com", ""},                               // [O2P]
	{"UserinfoPlusAmp", "https://home.example+&@evil.com#+@home.example/", ""},    // [O2P]
	{"UserinfoTwoAts", "https://3H6k7lIAiqjfNeN@home.example@evil.com/", ""},      // [O2P]
	{"UserinfoPlusTwoAts", "https://3H6k7lIAiqjfNeN@home.example+@evil.com/", ""}, // [O2P]
	{"UserinfoOddChars", "https://XY>.7d8T@home.example@evil.com/", ""},           // [O2P]
	{"UserinfoIPv4", "https://home.example@3627734734", ""},                       // [O2P]
	{"AtInSchemeLess", "@evil.com", ""},                                           // [O2P]

	// Encoded characters in the authority.
	{"EncodedDotHost", "https://home.example%2eevil.com/", ""},               // [O2P]
	{"EncodedDotSuffix", "https://evil.com%2ehome.example/", ""},             // [O2P]
	{"EncodedAtPort", "https://home.example:443%40evil.com/", ""},            // [O2P]
	{"EncodedAtHost", "https://home.example%40evil.com/", ""},                // [AG]
	{"EncodedSlashesHost", "https://evil.com%2f%2f.home.example/", ""},       // [O2P]
	{"EncodedBackslashesHost", "https://evil.com%5c%5c.home.example/", ""},   // [O2P]
	{"EncodedHashHost", "https://evil.com%23.home.example/", ""},             // [O2P]
	{"EncodedQuestionHost", "https://evil.com%3F.home.example/", ""},         // [O2P]
	{"EncodedDotDotHost", "https://%2e%2e.home.example/", ""},                // [AG]
	{"EncodedLetterHost", "https://%68ome.example/", ""},                     // [AG] even when harmless
	{"EncodedBackslashAuthority", "https://%5cevil.com", ""},                 // [O2P]
	{"EncodedIdeographicStop", "https://evil%E3%80%82com", ""},               // [O2P] [PATT] %E3%80%82
	{"EncodedIdeographicStopOurs", "https://cams.home%E3%80%82example/", ""}, // [AG]

	// Delimiters that end the authority before the allowed name.
	{"FragmentBeforeOurs", "https://evil.com#@home.example/", ""},        // [O2P]
	{"PortFragmentBeforeOurs", "https://evil.com:80#@home.example/", ""}, // [O2P]
	{"QueryBeforeOurs", "https://evil.com?@home.example/", ""},           // [O2P]
	{"PortQueryBeforeOurs", "https://evil.com:80?@home.example/", ""},    // [O2P]
	{"QueryDotOurs", "https://evil.com?.home.example", ""},               // [AG]
	{"SemicolonBeforeOurs", "https://evil.com;.home.example/", ""},       // [AG]
	{"AmpersandBeforeOurs", "https://evil.com&.home.example/", ""},       // [AG]
	{"PathBeforeOurs", "https://evil.com/.home.example", ""},             // [AG]

	// Host outside the configured domains, or across a label boundary.
	{"OtherHost", "https://evil.com/", ""},                                     // [OWASP]
	{"OurNameAsSubdomain", "https://home.example.evil.com/", ""},               // [PATT] whitelisted.com.evil.com
	{"OurNameAsSubdomainDeep", "https://cams.home.example.evil.com/", ""},      // [O2PV] Similar Domain
	{"SuffixWithoutDot", "https://evilhome.example/", ""},                      // [AG]
	{"SuffixWithHyphen", "https://evil-home.example/", ""},                     // [AG]
	{"ExtraTLDLetter", "https://secure.home.examplec/", ""},                    // [AUTH] comc
	{"ExtraTLD", "https://secure.home.example.c/", ""},                         // [AUTH] .com.c
	{"ShorterTLD", "https://secure.home.exampl/", ""},                          // [AUTH] .co
	{"Parent", "https://example/", ""},                                         // [AG]
	{"SiblingOfSecond", "https://example.net/", ""},                            // [AG] lab.example.net's parent
	{"RDParameterOnly", "https://evil.com/redirect?rd=home.example", ""},       // [O2PV]
	{"EvilPortAndHost", "https://evil.com:3838/redirect", ""},                  // [O2PV]
	{"LeadingDotHost", "https://.home.example/", ""},                           // [O2P] http://.localdomain.pw
	{"TrailingDotHost", "https://home.example./", ""},                          // [AG] a different cookie host
	{"EmptyLabel", "https://cams..home.example/", ""},                          // [AG]
	{"EmptyHost", "https:///", ""},                                             // [AG]
	{"UnderscoreLabel", "https://a_b.home.example/", ""},                       // [AG]
	{"HyphenLabelEdge", "https://-cams.home.example/", ""},                     // [AG]
	{"LongLabel", "https://" + strings.Repeat("a", 64) + ".home.example/", ""}, // [AG]

	// Unicode and punycode look-alikes.
	{"UnicodeStop", "https://evil。com", ""},                                        // [PATT] google。com
	{"UnicodeStopInOurs", "https://cams.home。example/", ""},                        // [AG]
	{"FullwidthSlash", "https://evil.com／x.home.example/", ""},                     // [PATT] a.com／X.b.com
	{"UnicodeNormalisation", "https://evil.c℀.home.example/", ""},                  // [PATT] c℀ → ca/c
	{"KanaPrefix", "〱evil.com", ""},                                                // [O2P]
	{"ProlongedSoundMark", "ｰevil.com", ""},                                        // [O2P]
	{"NonASCIIHost", "https://hōme.example/", ""},                                  // [AG]
	{"NonASCIISubdomain", "https://cämš.home.example/", ""},                        // [AG]
	{"PunycodeSubdomain", "https://xn--80ak6aa92e.home.example/", ""},              // [AG] аррӏе (Cyrillic)
	{"PunycodeDeepLabel", "https://a.xn--bcher-kva.home.example/", ""},             // [AG]
	{"PunycodeAboveConfigured", "https://xn--e1afmkfd.xn--bcher-kva.example/", ""}, // [AG]
	{"PunycodeLookalike", "https://xn--hme-kla.example/", ""},                      // [AG] not configured

	// IP literals in the forms URL parsers accept.
	{"IPv4Dotted", "https://216.58.214.206/", ""},         // [O2P]
	{"IPv4Decimal", "https://3627734734", ""},             // [O2P]
	{"IPv4Octal", "https://0330.072.0326.0316", ""},       // [O2P]
	{"IPv4Hex", "https://0xd8.0x3a.0xd6.0xce", ""},        // [O2P]
	{"IPv4HexWhole", "https://0xd83ad6ce", ""},            // [O2P]
	{"IPv4Mixed", "https://00330.0x3a.54990", ""},         // [O2P]
	{"IPv4OutOfRange", "https://472.314.470.462", ""},     // [O2P]
	{"IPv6Mapped", "https://[::ffff:216.58.214.206]", ""}, // [O2P]
	{"IPv6Compat", "https://[::216.58.214.206]", ""},      // [O2P]
	{"IPv6Loopback", "https://[::1]/", ""},                // [AG]
	{"IPv6Zone", "https://[fe80::1%25eth0]/", ""},         // [AG]

	// Ports.
	{"EmptyPort", "https://home.example:/", ""},           // [AG]
	{"PortZero", "https://home.example:0/", ""},           // [AG]
	{"PortLeadingZero", "https://home.example:0443/", ""}, // [AG]
	{"PortTooBig", "https://home.example:65536/", ""},     // [AG]
	{"PortSign", "https://home.example:+443/", ""},        // [AG]
	{"PortLetters", "https://home.example:44a/", ""},      // [AG]
	{"TwoPorts", "https://home.example:443:8443/", ""},    // [AG]

	// Paths that read as another host once the authority is stripped.
	{"DoubleSlashPath", "https://home.example//evil.com/", ""},                         // [O2P] //google.com//
	{"DoubleSlashPathEmptyHost", "https://home.example//", ""},                         // [AG]
	{"HTMLInPath", "https://home.example/<script>", ""},                                // [O2P] /<>//
	{"QuoteInQuery", `https://home.example/?q="x"`, ""},                                // [AG]
	{"BacktickInPath", "https://home.example/`x`", ""},                                 // [AG]
	{"BadEscapeInPath", "https://home.example/%zz", ""},                                // [AG]
	{"TooLong", "https://home.example/" + strings.Repeat("a", MaxReturnURLLength), ""}, // [AG]
}

func TestDomains_ReturnURL(t *testing.T) {
	d := newTestDomains(t, false)
	cases := append(append([]returnURLCase{}, acceptedCases...), refusedCases...)
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two rows named %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			got, ok := d.ReturnURL(tc.raw)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("ReturnURL(%q) = %q, %t; want %q, %t", tc.raw, got, ok, tc.want, tc.want != "")
			}
		})
	}
}

func TestDomains_ReturnURL_Length(t *testing.T) {
	d := newTestDomains(t, false)
	base := "https://home.example/"
	atLimit := base + strings.Repeat("a", MaxReturnURLLength-len(base))
	if got, ok := d.ReturnURL(atLimit); !ok || got != atLimit {
		t.Fatalf("ReturnURL(%d bytes) = %q, %t; want it back, true", len(atLimit), got, ok)
	}
	if got, ok := d.ReturnURL(atLimit + "a"); ok {
		t.Fatalf("ReturnURL(%d bytes) = %q, true; want refused", len(atLimit)+1, got)
	}
	// The bound holds for the URL as returned: { becomes %7B.
	grows := base + "{" + strings.Repeat("a", MaxReturnURLLength-len(base)-1)
	if got, ok := d.ReturnURL(grows); ok {
		t.Fatalf("ReturnURL(%d bytes growing to %d) = true; want refused", len(grows), len(got))
	}
}

// The O2P corpus is built from a few prefixes that smuggle a second slash or
// scheme past a filter, times targets that smuggle another host past a name
// check. Every combination must be refused, both as sent and after one more
// round of %-decoding (a handler that decodes rd twice must not turn a refused
// vector into an accepted one).
var (
	corpusPrefixes = []string{
		"", "/", "//", "///", "////", "/////", `/\`, `\/\/`, `/\/\/`,
		"/%09/", "//%09/", "/%5c", "//%5c", "/%2f%2f", "<>//", "/<>//",
		"https:", "https:/", "https:///", "/https://", "//https://", "//https:///",
		"https://%09/", "https://%5c", "/https:/%5c", "http://", "https://",
	}
	corpusTargets = []string{
		"evil.com", "evil.com/", "evil.com//", "evil.com/%2e%2e", "evil.com/%2e%2e%2f",
		"evil.com/%2f%2e%2e", "evil.com/%2f..", "home.example@evil.com/", "home.example@evil.com/%2f..",
		"home.example.evil.com/", "home.example+&@evil.com#+@home.example/",
		"3H6k7lIAiqjfNeN@home.example+@evil.com/", "evil.com:80#@home.example/", "evil.com:80?@home.example/",
		"evil.com%23.home.example/", "evil.com%2f%2f.home.example/", "evil.com%3F.home.example/",
		"evil.com%5c%5c.home.example/", "home.example%2eevil.com/", "home.example:80%40evil.com/",
		";@evil.com", "evil%00.com", "evil%E3%80%82com", "0xd83ad6ce", "3627734734", "0330.072.0326.0316",
		"[::ffff:216.58.214.206]", "home.example@[::216.58.214.206]", "javascript:alert(1)",
	}
)

func TestDomains_ReturnURL_Corpus(t *testing.T) {
	for _, localHTTP := range []bool{false, true} {
		d := newTestDomains(t, localHTTP, append([]string{"localhost"}, testDomains...)...)
		n := 0
		for _, p := range corpusPrefixes {
			for _, target := range corpusTargets {
				raw := p + target
				forms := []string{raw}
				if dec, err := url.QueryUnescape(raw); err == nil && dec != raw {
					forms = append(forms, dec)
				}
				for _, f := range forms {
					n++
					if got, ok := d.ReturnURL(f); ok {
						t.Errorf("localHTTP=%t: ReturnURL(%q) = %q, true; want refused", localHTTP, f, got)
					}
				}
			}
		}
		if n < 500 {
			t.Fatalf("corpus has %d vectors; want at least 500", n)
		}
	}
}

func TestDomains_ReturnURL_LocalHTTP(t *testing.T) {
	tests := []struct {
		name      string
		localHTTP bool
		raw, want string
	}{
		{"Localhost", true, "http://localhost:8080/x", "http://localhost:8080/x"},
		{"LocalhostSubdomain", true, "http://app.localhost/", "http://app.localhost/"},
		{"LocalhostHTTPS", true, "https://app.localhost/", "https://app.localhost/"},
		{"UppercaseLocalhost", true, "HTTP://App.LocalHost/x", "http://app.localhost/x"},
		{"HTTPSStillWorks", true, "https://home.example/", "https://home.example/"},
		{"HTTPOtherDomain", true, "http://home.example/", ""},
		{"LocalhostAsSubdomain", true, "http://localhost.evil.com/", ""},
		{"LocalhostSuffixNoDot", true, "http://evillocalhost/", ""},
		{"LocalhostHyphen", true, "http://evil-localhost/", ""},
		{"Loopback", true, "http://127.0.0.1/", ""},
		{"LoopbackIPv6", true, "http://[::1]/", ""},
		{"LocalhostUserinfo", true, "http://evil.com@localhost/", ""},
		{"LocalhostTrailingDot", true, "http://localhost./", ""},
		{"HTTPWithoutDevMode", false, "http://localhost:8080/x", ""},
		{"HTTPSWithoutDevMode", false, "https://app.localhost/", "https://app.localhost/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDomains(t, tc.localHTTP, "localhost", "home.example")
			got, ok := d.ReturnURL(tc.raw)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("ReturnURL(%q) = %q, %t; want %q, %t", tc.raw, got, ok, tc.want, tc.want != "")
			}
		})
	}
	// Development mode does not open http for a localhost that is not configured.
	d := newTestDomains(t, true, "home.example")
	if got, ok := d.ReturnURL("http://localhost/"); ok {
		t.Fatalf("ReturnURL(http://localhost/) without localhost configured = %q, true; want refused", got)
	}
}

func TestNewDomains(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		wantErr bool
	}{
		{"One", []string{"home.example"}, false},
		{"Several", []string{"home.example", "lab.example.net"}, false},
		{"Nested", []string{"home.example", "cams.home.example"}, false},
		{"Localhost", []string{"localhost"}, false},
		{"Punycode", []string{"xn--bcher-kva.example"}, false},
		{"Digits", []string{"1password.example", "cam1.example"}, false},
		{"None", nil, true},
		{"Empty", []string{""}, true},
		{"Uppercase", []string{"Home.Example"}, true},
		{"Scheme", []string{"https://home.example"}, true},
		{"Port", []string{"home.example:443"}, true},
		{"Path", []string{"home.example/"}, true},
		{"LeadingDot", []string{".home.example"}, true},
		{"TrailingDot", []string{"home.example."}, true},
		{"EmptyLabel", []string{"home..example"}, true},
		{"Wildcard", []string{"*.home.example"}, true},
		{"IPv4", []string{"192.168.1.10"}, true},
		{"IPv4Short", []string{"127.1"}, true},
		{"IPv4Hex", []string{"0x7f.0x1"}, true},
		{"IPv6", []string{"::1"}, true},
		{"IPv6Brackets", []string{"[::1]"}, true},
		{"SingleLabel", []string{"example"}, true},
		{"TopLevel", []string{"com"}, true},
		{"Underscore", []string{"home_lab.example"}, true},
		{"LeadingHyphen", []string{"-home.example"}, true},
		{"NonASCII", []string{"bücher.example"}, true},
		{"Space", []string{"home .example"}, true},
		{"LongLabel", []string{strings.Repeat("a", 64) + ".example"}, true},
		{"TooLong", []string{strings.Repeat("a.", 127) + "example"}, true},
		{"Duplicate", []string{"home.example", "home.example"}, true},
		{"OneBadAmongGood", []string{"home.example", "*.lab.example.net"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDomains(tc.names, false)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewDomains(%q) = %v; want error %t", tc.names, err, tc.wantErr)
			}
			if err != nil && (d != nil || !errors.Is(err, ErrDomain)) {
				t.Fatalf("NewDomains(%q) = %v, %v; want nil and an ErrDomain", tc.names, d, err)
			}
		})
	}
}

func TestDomains_Match(t *testing.T) {
	d := newTestDomains(t, false, "home.example", "cams.home.example", "lab.example.net")
	tests := []struct {
		host, want string
	}{
		{"home.example", "home.example"},
		{"events.home.example", "home.example"},
		{"cams.home.example", "cams.home.example"},
		{"x.cams.home.example", "cams.home.example"},
		{"lab.example.net", "lab.example.net"},
		{"example.net", ""},
		{"evilhome.example", ""},
		{"home.example.evil.com", ""},
		{".home.example", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := d.Match(tc.host)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Match(%q) = %q, %t; want %q, %t", tc.host, got, ok, tc.want, tc.want != "")
		}
	}
}

// FuzzReturnURL checks the rule's guarantee on any input: an accepted URL
// parses, is https (or http on localhost in development mode), has no userinfo
// or fragment, has a host inside a configured domain, and is accepted again
// unchanged.
func FuzzReturnURL(f *testing.F) {
	for _, tc := range acceptedCases {
		f.Add(tc.raw)
	}
	for _, tc := range refusedCases {
		f.Add(tc.raw)
	}
	for _, p := range corpusPrefixes {
		f.Add(p + "evil.com")
		f.Add(p + "home.example@evil.com/")
	}
	f.Add("http://app.localhost:8080/x")
	names := append([]string{"localhost"}, testDomains...)
	strict, dev := newTestDomains(f, false, names...), newTestDomains(f, true, names...)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, d := range []*Domains{strict, dev} {
			got, ok := d.ReturnURL(raw)
			if !ok {
				if got != "" {
					t.Fatalf("ReturnURL(%q) = %q, false; want an empty string", raw, got)
				}
				continue
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("ReturnURL(%q) = %q, which does not parse: %v", raw, got, err)
			}
			host := u.Hostname()
			local := host == "localhost" || strings.HasSuffix(host, ".localhost")
			if !(u.Scheme == "https" || u.Scheme == "http" && d.localHTTP && local) {
				t.Fatalf("ReturnURL(%q) = %q: scheme %q not allowed", raw, got, u.Scheme)
			}
			if u.User != nil || u.Opaque != "" || u.Fragment != "" || strings.Contains(got, "#") {
				t.Fatalf("ReturnURL(%q) = %q: has userinfo, opaque part or fragment", raw, got)
			}
			if strings.Trim(u.Host, "abcdefghijklmnopqrstuvwxyz0123456789.-:") != "" || strings.ContainsAny(got, "\\ \t\r\n") {
				t.Fatalf("ReturnURL(%q) = %q: forbidden byte in host %q or URL", raw, got, u.Host)
			}
			inside := false
			for _, n := range names {
				if host == n || strings.HasSuffix(host, "."+n) {
					inside = true
				}
			}
			if !inside {
				t.Fatalf("ReturnURL(%q) = %q: host %q is outside %q", raw, got, host, names)
			}
			if again, ok := d.ReturnURL(got); !ok || again != got {
				t.Fatalf("ReturnURL(%q) = %q, but ReturnURL(%q) = %q, %t", raw, got, got, again, ok)
			}
		}
	})
}
