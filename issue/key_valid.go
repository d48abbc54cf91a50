package issue

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate/verify"
)

// validate checks a KeyRequest and puts it in stored form: scopes sorted
// without repeats, metadata canonical. Errors are a *FieldError naming the field.
func (in *KeyRequest) validate(now time.Time) error {
	if err := validName(in.Name); err != nil {
		return err
	}
	if err := validScopes(in.Scopes); err != nil {
		return err
	}
	in.Scopes = slices.Compact(slices.Sorted(slices.Values(in.Scopes)))
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return invalid("expires_at", "must be in the future")
	}
	m, err := validMetadata(in.Metadata)
	if err != nil {
		return err
	}
	in.Metadata = m
	if in.RateLimit != nil {
		return in.RateLimit.validate()
	}
	return nil
}

// validName checks the name of a key or a personal token: 1 to MaxNameLen
// characters of printable text. Names are shown in lists and sent upstream as
// X-Auth-Key-Name, so control, format (bidi overrides, zero-width), private-use
// and line-separator characters are refused: each name reads as it is.
func validName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("name", "is required")
	case !utf8.ValidString(name):
		return invalid("name", "must be UTF-8 text")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return invalid("name", fmt.Sprintf("must be at most %d characters", MaxNameLen))
	}
	if !printable(name) {
		return invalid("name", "must be printable text, without control, formatting or invisible characters")
	}
	return nil
}

// printable reports whether s, valid UTF-8, reads as it is: no control,
// format (bidi overrides, zero-width), private-use, unassigned or line- and
// paragraph-separator characters.
func printable(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.C, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

func validScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return invalid("scopes", fmt.Sprintf("must hold at most %d scopes", MaxScopes))
	}
	for _, sc := range scopes {
		if !verify.ValidScope(sc) {
			return invalid("scopes", fmt.Sprintf("%q is not a valid scope: use 1 to %d letters, digits and . _ - : /",
				truncate(sc, 64), verify.MaxScopeLen))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
