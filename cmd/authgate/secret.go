package main

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// fingerprint is what a database records of a server secret: an HKDF output
// under a label of its own, so it is neither the secret nor any key derived
// from it for use.
func fingerprint(secret string) string {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "authgate secret fingerprint v1", 32)
	if err != nil { // only for an output length HKDF-SHA-256 cannot give
		panic(err)
	}
	return hex.EncodeToString(k)
}

// short is how a fingerprint appears in messages.
func short(fp string) string { return fp[:12] }

// checkSecret holds cfg's secrets against the one the database records, and
// returns cfg with the MAC version of AUTHGATE_SECRET resolved:
//   - a database without a record takes AUTHGATE_SECRET's (version 1), or
//     AUTHGATE_SECRET_PREVIOUS's when set (and rotates at once, below), unless
//     its signing keys were sealed under neither (firstSecret);
//   - AUTHGATE_SECRET recorded: it goes on, and AUTHGATE_SECRET_PREVIOUS, if
//     set, must be the secret the last rotation replaced;
//   - AUTHGATE_SECRET_PREVIOUS recorded: a rotation. Every sealed signing key
//     is resealed under the new secret and the record moves to it with the
//     next MAC version, in one transaction; say reports it.
//   - anything else is refused, saying how to fix it.
//
// It then says, through say, how many live credentials are hashed under
// secrets it no longer holds, and so are refused.
func checkSecret(ctx context.Context, store *db.DB, cfg Config, now time.Time, say func(string)) (Config, error) {
	cfg, err := resolveSecret(ctx, store, cfg, now, say)
	if err != nil {
		return cfg, err
	}
	oldest := cfg.macVersion
	if cfg.SecretPrevious != "" {
		oldest--
	}
	if oldest <= 1 {
		return cfg, nil
	}
	keys, tokens, err := store.SecretCredentialsBelow(ctx, oldest, now)
	if err != nil {
		return cfg, err
	}
	if keys+tokens > 0 {
		say(fmt.Sprintf("%d API key(s) and %d personal token(s) were made under an AUTHGATE_SECRET this server does not hold, "+
			"and are refused: set AUTHGATE_SECRET_PREVIOUS to the secret the last rotation replaced if they were made under it, "+
			"else replace them", keys, tokens))
	}
	return cfg, nil
}

func resolveSecret(ctx context.Context, store *db.DB, cfg Config, now time.Time, say func(string)) (Config, error) {
	cur := fingerprint(cfg.Secret)
	first, err := firstSecret(ctx, store, cfg)
	if err != nil {
		return cfg, err
	}
	for range 3 { // another instance rotating at the same moment: read its outcome
		rec, err := store.SecretInit(ctx, cmp.Or(first, cur), now)
		if err != nil {
			return cfg, fmt.Errorf("%w (run 'authgate migrate' if AUTHGATE_MIGRATE=false)", err)
		}
		prev := ""
		if cfg.SecretPrevious != "" {
			prev = fingerprint(cfg.SecretPrevious)
		}
		switch {
		case rec.Fingerprint == cur:
			if prev != "" && prev != rec.PreviousFingerprint {
				return cfg, fmt.Errorf("AUTHGATE_SECRET_PREVIOUS is not the secret this database was last rotated from "+
					"(fingerprint %s; AUTHGATE_SECRET_PREVIOUS has %s): credentials hashed under it would not verify; "+
					"set it to that secret, or unset it", orNone(rec.PreviousFingerprint), short(prev))
			}
			cfg.macVersion = rec.MACVersion
			return cfg, nil
		case prev != "" && rec.Fingerprint == prev:
			to := db.ServerSecret{Fingerprint: cur, MACVersion: rec.MACVersion + 1, PreviousFingerprint: prev, UpdatedAt: now}
			n, err := rotateSecret(ctx, store, cfg, rec, to)
			if errors.Is(err, issue.ErrConflict) {
				continue
			}
			if err != nil {
				return cfg, err
			}
			say(fmt.Sprintf("AUTHGATE_SECRET rotated: the database now records secret %s (MAC version %d) in place of %s; "+
				"%d signing key(s) resealed under it; credentials made before keep working while AUTHGATE_SECRET_PREVIOUS is set",
				short(cur), to.MACVersion, short(prev), n))
			cfg.macVersion = to.MACVersion
			return cfg, nil
		default:
			return cfg, secretMismatch(rec, cur, prev)
		}
	}
	return cfg, errors.New("the server secret keeps changing under us: is another instance rotating it? try again")
}

// secretMismatch says why a secret is refused and how to fix it.
func secretMismatch(rec db.ServerSecret, cur, prev string) error {
	also := ""
	if prev != "" {
		also = fmt.Sprintf(", nor is AUTHGATE_SECRET_PREVIOUS (fingerprint %s)", short(prev))
	}
	return fmt.Errorf("AUTHGATE_SECRET is not the secret this database was set up under "+
		"(the database records fingerprint %s; AUTHGATE_SECRET has %s%s): keys, tokens and signing keys made under one "+
		"do not work under the other. Start with the original AUTHGATE_SECRET ('make run' keeps it in .data/secret). "+
		"To move to a new secret on purpose, set AUTHGATE_SECRET to the new one and AUTHGATE_SECRET_PREVIOUS to the one recorded",
		short(rec.Fingerprint), short(cur), also)
}

func orNone(fp string) string {
	if fp == "" {
		return "none: it was never rotated"
	}
	return short(fp)
}

// firstSecret returns the fingerprint to record for a database that has no
// record yet (a new one, or one made before records were kept): that of
// AUTHGATE_SECRET, or of AUTHGATE_SECRET_PREVIOUS when that is set (a
// rotation then follows at once). Signing keys already in the database decide
// between them, and it refuses when none opens under either: a sign that the
// database was set up under another secret. It returns "" when a record exists.
func firstSecret(ctx context.Context, store *db.DB, cfg Config) (string, error) {
	if _, err := store.SecretGet(ctx); err == nil || !errors.Is(err, verify.ErrNotFound) {
		return "", err
	}
	candidates := []string{cfg.Secret}
	if cfg.SecretPrevious != "" {
		candidates = []string{cfg.SecretPrevious, cfg.Secret}
	}
	keys, err := store.SigningKeyList(ctx, time.Time{})
	if err != nil {
		return "", err
	}
	sealed := 0
	for _, k := range keys {
		if len(k.PrivateKey) == 0 {
			continue
		}
		sealed++
		for _, secret := range candidates {
			sealer, err := newSealer(secret)
			if err != nil {
				return "", err
			}
			if _, err := sealer.Open(k.KID, k.PrivateKey); err == nil {
				return fingerprint(secret), nil
			}
		}
	}
	if sealed > 0 {
		return "", fmt.Errorf("AUTHGATE_SECRET is not the secret this database was set up under: none of its %d signing key(s) "+
			"opens under it. Start with the original AUTHGATE_SECRET ('make run' keeps it in .data/secret)", sealed)
	}
	return fingerprint(candidates[0]), nil
}

// rotateSecret moves the record from → to, resealing every signing key sealed
// under AUTHGATE_SECRET_PREVIOUS under AUTHGATE_SECRET, and returns how many
// it resealed. Keys already sealed under AUTHGATE_SECRET are left as they are;
// one that opens under neither is refused.
func rotateSecret(ctx context.Context, store *db.DB, cfg Config, from, to db.ServerSecret) (int, error) {
	oldSealer, err := newSealer(cfg.SecretPrevious)
	if err != nil {
		return 0, err
	}
	newSealer, err := newSealer(cfg.Secret)
	if err != nil {
		return 0, err
	}
	n := 0
	err = store.SecretRotate(ctx, from, to, func(kid string, sealed []byte) ([]byte, error) {
		plain, err := oldSealer.Open(kid, sealed)
		if err != nil {
			if _, err := newSealer.Open(kid, sealed); err == nil {
				return nil, nil
			}
			return nil, fmt.Errorf("signing key %s opens under neither AUTHGATE_SECRET nor AUTHGATE_SECRET_PREVIOUS: "+
				"nothing was changed (delete its row from signing_keys if it is of no use)", kid)
		}
		n++
		return newSealer.Seal(kid, plain), nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func newSealer(secret string) (*issue.Sealer, error) {
	k, err := sealKey(secret)
	if err != nil {
		return nil, err
	}
	return issue.NewSealer(k)
}
