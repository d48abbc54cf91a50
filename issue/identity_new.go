package issue

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/authgate/authgate/verify"
)

// createExternalUser stores a new user for id (user.create, by the actor of
// the sign-in), with p.DefaultRole.
func (s *Service) createExternalUser(ctx context.Context, tx Store, id ExternalIdentity, email string, p ProviderPolicy,
	by Actor, now time.Time) (User, error) {
	name, err := freeUsername(ctx, tx, usernameBase(id.Username, email))
	if err != nil {
		return User{}, err
	}
	u, err := tx.UserInsert(ctx, User{ID: "usr_" + verify.RandomString(16), Username: name, Email: email,
		FullName: fullNameOf(id.Name), PasswordHash: unusablePasswordHash(), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return User{}, err
	}
	roles := []string{}
	if p.DefaultRole != "" {
		if err := assignPolicyRole(ctx, tx, u.ID, p.DefaultRole); err != nil {
			return User{}, err
		}
		roles = append(roles, p.DefaultRole)
	}
	return u, s.record(ctx, tx, by, ActionUserCreate, u.ID, OutcomeSuccess,
		map[string]any{"username": u.Username, "roles": roles, "provider": id.Provider})
}

// Bounds of an external identity's names (the database checks them too).
const (
	maxProviderIDLen = 64
	maxIssuerLen     = 2048
	maxSubjectLen    = 255
)

func validExternal(id ExternalIdentity) error {
	for _, f := range []struct {
		name, v string
		max     int
	}{{"provider", id.Provider, maxProviderIDLen}, {"issuer", id.Issuer, maxIssuerLen}, {"subject", id.Subject, maxSubjectLen}} {
		if f.v == "" || len(f.v) > f.max || !utf8.ValidString(f.v) || !printable(f.v) {
			return invalid(f.name, fmt.Sprintf("must be 1 to %d bytes of printable text", f.max))
		}
	}
	return nil
}

// usableEmail is email when it is one a user may hold, else "".
func usableEmail(email string) string {
	if validEmail(email) != nil {
		return ""
	}
	return email
}

// usernameBase makes a username from what a provider calls the person (the
// part before any @) or else their email's local part: lowercased, each run
// of characters outside the username alphabet one "-", cut to leave room for
// a number; "user" when nothing is left.
func usernameBase(username, email string) string {
	src := username
	if src == "" {
		src = email
	}
	src, _, _ = strings.Cut(src, "@")
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(src) {
		if r < utf8.RuneSelf && (r == '.' || r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.Trim(truncate(strings.Trim(b.String(), "-._"), MaxUsernameLen-8), "-._")
	if base == "" {
		return "user"
	}
	return base
}

// freeUsername returns base, or base with the first number from 2 that makes
// it a username nobody holds (whatever the case), through tx.
func freeUsername(ctx context.Context, tx Store, base string) (string, error) {
	for i := 1; i <= 100; i++ {
		name := base
		if i > 1 {
			name += strconv.Itoa(i)
		}
		_, err := tx.UserByLogin(ctx, name) // a username holds no @, so it matches no email
		if errors.Is(err, verify.ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return base + "-" + strings.ToLower(verify.RandomString(6)), nil
}

// fullNameOf is a provider's name for the person, fit for User.FullName.
func fullNameOf(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == MaxFullNameLen {
			break
		}
		if r != utf8.RuneError && unicode.IsGraphic(r) {
			b.WriteRune(r)
			n++
		}
	}
	return strings.TrimSpace(b.String())
}

// unusablePasswordHash is a well-formed argon2id hash of no password: its
// key is random bytes, which no password can be found to hash to. A password
// login against it fails after the same work as any wrong password. Its salt
// begins with noPasswordMark, by which hasPassword tells it from a password
// someone chose (whose random salt begins so once in 2^48).
// noPasswordMark begins the salt of every unusable hash: six bytes, so that
// it is whole base64 characters (noPasswordMarkB64) at the salt's start.
var noPasswordMark = []byte("nopass")

// noPasswordMarkB64 is noPasswordMark as it appears in the PHC string.
var noPasswordMarkB64 = base64.RawStdEncoding.EncodeToString(noPasswordMark)

// hasPassword reports whether hash is of a password someone chose, not an
// unusablePasswordHash (a user a provider created just in time). Accounts
// created before the mark existed count as having one.
func hasPassword(hash string) bool {
	parts := strings.Split(hash, "$") // "", "argon2id", "v=…", "m=…", salt, key
	return len(parts) != 6 || !strings.HasPrefix(parts[4], noPasswordMarkB64)
}

func unusablePasswordHash() string {
	salt, key := make([]byte, argonSaltLen), make([]byte, argonKeyLen)
	rand.Read(salt) // never fails (crypto/rand contract since Go 1.24)
	rand.Read(key)
	copy(salt, noPasswordMark)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
