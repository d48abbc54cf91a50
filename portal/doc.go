// Package portal is the browser-facing side of authgate: the login page at a
// configured portal URL, the session cookie for each configured cookie domain,
// and the redirects between them (portal/login?rd=<original URL>).
//
// For now it holds only the return-URL rule, the one check every later part
// leans on: a URL taken from a request (the rd parameter, a form field) is
// passed through Domains.ReturnURL before it is stored or followed, and
// anything it refuses sends the browser to the portal's home instead.
//
// # The return-URL rule
//
// Domains is built once at start-up from the configured cookie domains
// (NewDomains refuses anything that is not a lowercase DNS name). ReturnURL
// accepts a URL only if all of these hold, judged on the raw string before any
// parser sees it, so that no two parsers can disagree about it:
//
//   - it is at most MaxReturnURLLength bytes of printable ASCII, with no space,
//     backslash, ", <, > or `;
//   - it starts with https:// (or http:// in development mode, for localhost
//     and *.localhost only), in any letter case;
//   - its authority is host[:port] with nothing else: no userinfo (@), no
//     %-escapes, no IP literal, no empty or non-ASCII label, no trailing dot,
//     port 1-65535 written without a leading zero;
//   - the host is a configured domain or lies under one on a label boundary
//     (cams.home.example is under home.example; evilhome.example and
//     home.example.evil.com are not), and any label it adds to the domain is
//     not punycode (xn--), so a look-alike name cannot be minted below a
//     configured one;
//   - its path does not start with //, so the path alone never reads as a
//     protocol-relative URL.
//
// Relative URLs (/events) are refused: the proxies always send the absolute
// URL the browser asked for, and a relative one would have to be resolved
// against a portal whose host is not the app's. The accepted URL comes back
// with its scheme and host lowercased, its port as given, its path and query
// as sent, and no fragment: browsers never send a fragment, so one in rd was
// put there by whoever built the link, and dropping it keeps attacker-chosen
// input away from the target app's client-side router.
package portal
