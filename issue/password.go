package issue

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: OWASP's first recommended set (19 MiB,
// two passes, one lane). Stored hashes carry their own parameters, so these can
// be raised without invalidating existing passwords.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters CheckPassword accepts from a stored hash, so that a
// tampered or corrupt row cannot make one login cost gigabytes or minutes.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 10
	maxArgonThreads = 16
	minArgonSaltLen = 8
	maxArgonSaltLen = 64
	minArgonKeyLen  = 16
	maxArgonKeyLen  = 64
)

// DummyHash is the hash of a random password nobody knows, made with the
// current parameters. Checking a password against it costs what checking a real
// user's does, so a login for an unknown user takes as long as one for a known
// user with the wrong password.
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$O4eGAPalFHOi1M1dDNuyLg$XzXMWJJBsS+TFb/FNphgC3XGdKcdSKABI8vA/1D/NAY"

// HashPassword returns the argon2id hash of pw in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, both in unpadded standard base64.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash, comparing in constant time.
// The parameters are read from hash; a hash that is malformed, of another
// algorithm or version, or whose parameters are out of bounds never matches.
// Neither does a password longer than MaxPasswordLen runes, which no stored
// hash can be of.
func CheckPassword(hash, pw string) bool {
	p, ok := parsePHC(hash)
	if !ok || utf8.RuneCountInString(pw) > MaxPasswordLen {
		return false
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// checkDummyPassword checks pw against DummyHash and forgets the answer: call it
// when there is no user to check against, so the reply takes as long as if there were.
func checkDummyPassword(pw string) { _ = CheckPassword(DummyHash, pw) }

// validPassword is the password policy (NIST SP 800-63B): between min and
// MaxPasswordLen characters, and no composition rules.
func validPassword(pw string, min int) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < min:
		return invalid("password", fmt.Sprintf("must be at least %d characters", min))
	case n > MaxPasswordLen:
		return invalid("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	}
	return nil
}

type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads an argon2id PHC string, refusing anything out of bounds.
func parsePHC(s string) (phc, bool) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, false
	}
	var p phc
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return phc{}, false
	}
	for i, want := range []struct {
		name     string
		min, max uint64
	}{{"m", 0, maxArgonMemory}, {"t", 1, maxArgonTime}, {"p", 1, maxArgonThreads}} {
		v, ok := strings.CutPrefix(params[i], want.name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n < want.min || n > want.max || v != strconv.FormatUint(n, 10) {
			return phc{}, false
		}
		switch want.name {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			p.threads = uint8(n)
		}
	}
	if p.memory < 8*uint32(p.threads) { // argon2's own minimum
		return phc{}, false
	}
	var err1, err2 error
	p.salt, err1 = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	p.key, err2 = base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(p.salt) < minArgonSaltLen || len(p.salt) > maxArgonSaltLen ||
		len(p.key) < minArgonKeyLen || len(p.key) > maxArgonKeyLen {
		return phc{}, false
	}
	return p, true
}
