package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// StaticKey is a key fixed in authgate's configuration, for the smallest home
// setups that want one shared secret and no database rows (API_KEYS). It can
// be revoked only by removing it and restarting.
type StaticKey struct {
	Key    string   // the secret: MinStaticKeyLen to MaxCredentialLen visible ASCII characters
	Name   string   // 1 to 100 characters; "static-N" (N its position, from 1) when empty
	Scopes []string // each a ValidScope; none means it passes only routes that ask for no scope
}

// MinStaticKeyLen is the shortest static key NewStaticKeys accepts.
const MinStaticKeyLen = 20

const maxStaticKeyNameLen = 100

// StaticKeys is a fixed set of static keys. Only their MACs are kept in
// memory, each with the Principal it stands for, built once. A StaticKeys is
// safe for concurrent use.
//
// A presented credential is found by its MAC, in a map. The lookup's time
// depends only on that MAC, which is keyed with the server's secret: a client
// cannot compute it for any guess, so timing the lookup tells it nothing about
// the stored keys. Hence no constant-time comparison is needed, and checking
// one credential costs one HMAC whatever the number of keys.
type StaticKeys struct {
	pool  *sync.Pool // MAC states under the hasher's current key
	byMAC map[string]*Principal
}

// Why a credential is not a static key; built once.
var (
	errStaticTooShort = fmt.Errorf("%w: shorter than any static key", ErrMalformed)
	errUnknownStatic  = fmt.Errorf("%w: not a static key", ErrUnknownKey)
)

// NewStaticKeys hashes each key with h's current MAC key and returns the set.
// It refuses an empty list, a key shorter than MinStaticKeyLen, longer than
// MaxCredentialLen or holding anything but visible ASCII, a key shaped like
// authgate's own credentials (starting agk_, agp_, ags_ or agr_, or holding two dots,
// as a JWT does; so a credential's shape alone always says where to look it
// up), a repeated key or name, a name of more than 100 characters or with
// control characters, and an invalid scope. Errors name the entry by its
// position, from 1, and never quote the key.
func NewStaticKeys(keys []StaticKey, h *Hasher) (*StaticKeys, error) {
	if h == nil {
		return nil, errors.New("verify: static keys need a Hasher")
	}
	if len(keys) == 0 {
		return nil, errors.New("verify: no static keys")
	}
	s := &StaticKeys{pool: h.pools[h.current], byMAC: make(map[string]*Principal, len(keys))}
	posByMAC := make(map[string]int, len(keys))
	posByName := make(map[string]int, len(keys))
	for i, k := range keys {
		pos := i + 1
		fail := func(why string) error { return fmt.Errorf("verify: static key %d: %s", pos, why) }
		switch {
		case len(k.Key) < MinStaticKeyLen:
			return nil, fail("the key is shorter than " + strconv.Itoa(MinStaticKeyLen) + " characters")
		case len(k.Key) > MaxCredentialLen:
			return nil, fail("the key is longer than " + strconv.Itoa(MaxCredentialLen) + " characters")
		case !visibleASCII(k.Key):
			return nil, fail("the key holds a character other than visible ASCII (a space, a control character or non-ASCII)")
		case !staticShaped(k.Key):
			return nil, fail("the key starts with agk_, agp_, ags_ or agr_ or holds two dots, so authgate would read it" +
				" as one of its own keys or tokens or as a JWT")
		}
		name := k.Name
		if name == "" {
			name = "static-" + strconv.Itoa(pos)
		}
		if !validStaticKeyName(name) {
			return nil, fail("the name is not 1 to 100 characters of UTF-8 without control characters")
		}
		if prev, ok := posByName[name]; ok {
			return nil, fail("static key " + strconv.Itoa(prev) + " has the same name")
		}
		for j, sc := range k.Scopes {
			if !ValidScope(sc) {
				return nil, fail("scope " + strconv.Itoa(j+1) + " is not a valid scope" +
					" (1 to 100 letters, digits and . _ - : /)")
			}
		}
		_, mac := h.Sum(k.Key)
		if prev, ok := posByMAC[string(mac)]; ok {
			return nil, fail("static key " + strconv.Itoa(prev) + " has the same key")
		}
		posByMAC[string(mac)], posByName[name] = pos, pos
		s.byMAC[string(mac)] = NewPrincipal(Principal{Kind: KindStaticKey, Subject: "static:" + name,
			KeyID: "static:" + name, KeyName: name, Scopes: k.Scopes})
	}
	return s, nil
}

// staticShaped reports whether the verifier would look key up among the
// static keys: it is shaped like none of authgate's own credentials. Two dots
// anywhere is stricter than a JWT's shape, and easier to state.
func staticShaped(key string) bool {
	s, err := shapeOf(key)
	return err == nil && s == shapeOther && strings.Count(key, ".") < 2
}

func validStaticKeyName(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxStaticKeyNameLen {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return name != ""
}

// Len returns how many static keys the set holds.
func (s *StaticKeys) Len() int { return len(s.byMAC) }

// authenticate returns the principal of the static key credential is, or
// ErrUnknownKey. It costs one HMAC and a map lookup, and does not allocate.
func (s *StaticKeys) authenticate(credential string) (*Principal, error) {
	if len(credential) < MinStaticKeyLen { // public: says nothing about the keys
		return nil, errStaticTooShort
	}
	st := s.pool.Get().(*macState)
	st.mac.Reset()
	st.writeString(credential)
	p := s.byMAC[string(st.mac.Sum(st.sum[:0]))] // string(…) in an index does not allocate
	s.pool.Put(st)
	if p == nil {
		return nil, errUnknownStatic
	}
	return p, nil
}
