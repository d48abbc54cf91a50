package issue

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate/verify"
)

// Limits on what a key may carry.
const (
	MaxNameLen     = 100
	MaxScopes      = 50
	MaxMetadataLen = 4096
	MaxGrace       = 30 * 24 * time.Hour
)

// Key is an API key as the management API shows it. It never holds the secret.
type Key struct {
	ID          string          `json:"id"`
	Prefix      string          `json:"prefix"` // agk_ + lookup id: how a key is recognised in lists and logs
	Subject     string          `json:"subject"`
	Name        string          `json:"name"`
	Scopes      []string        `json:"scopes"`
	Metadata    json.RawMessage `json:"metadata"`
	State       State           `json:"state"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	DisabledAt  *time.Time      `json:"disabled_at"`
	RevokedAt   *time.Time      `json:"revoked_at"`
	RotatedFrom *string         `json:"rotated_from"`
	LastUsedAt  *time.Time      `json:"last_used_at"`
	CreatedAt   time.Time       `json:"created_at"`
	CreatedBy   string          `json:"created_by"`
}

// State is a key's lifecycle state at a point in time.
type State string

// Key states. Revoked is final; disabled can be undone; expired follows from expires_at.
const (
	StateActive   State = "active"
	StateDisabled State = "disabled"
	StateRevoked  State = "revoked"
	StateExpired  State = "expired"
)

// StateAt returns the key's state at now, with the same precedence as the verifier.
func (k *Key) StateAt(now time.Time) State {
	switch {
	case k.RevokedAt != nil:
		return StateRevoked
	case k.DisabledAt != nil:
		return StateDisabled
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return StateExpired
	}
	return StateActive
}

// NewKey is what a caller asks for when creating a key.
type NewKey struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
	Metadata  json.RawMessage
}

// Issued is a freshly minted key. Secret is the full credential: it is shown
// once, to the caller, and stored nowhere.
type Issued struct {
	Key
	Secret string `json:"key"`
}

// CreateKey validates in and stores a new key created by by, audited
// (key.create) in the same transaction. by must hold every scope of the key
// (the authority rule). Returns a *FieldError (ErrInvalid) naming the first
// bad field, a *PermissionError (ErrPermission) naming a scope by lacks.
func (s *Service) CreateKey(ctx context.Context, in NewKey, by Actor) (Issued, error) {
	now := s.now()
	if err := in.validate(now); err != nil {
		return Issued{}, err
	}
	if err := authorize(by, AuthorityOf(in.Scopes), "to give it to a key"); err != nil {
		return Issued{}, fmt.Errorf("create key: %w", err)
	}
	secret, d := s.draft(now, by.ID)
	d.Subject, d.Name, d.Scopes, d.Metadata, d.ExpiresAt = d.ID, in.Name, in.Scopes, in.Metadata, in.ExpiresAt
	var out Issued
	err := s.store.InTx(ctx, func(tx Store) error {
		k, err := tx.KeyInsert(ctx, d)
		if err != nil {
			return err
		}
		out = s.issued(k, secret)
		return s.record(ctx, tx, by, "key.create", "key", k.ID, OutcomeSuccess, map[string]any{
			"name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes, "expires_at": k.ExpiresAt})
	})
	if err != nil {
		return Issued{}, fmt.Errorf("create key: %w", err)
	}
	return out, nil
}

// RotateKey mints a successor to key id with the same subject, name, scopes,
// metadata and expiry, and makes the old key expire at the earlier of its own
// expiry and now + grace. A revoked, disabled or expired key cannot be rotated.
// by must hold every scope of the key. Audited as key.rotate on the old key.
func (s *Service) RotateKey(ctx context.Context, id string, grace time.Duration, by Actor) (Issued, error) {
	if grace < 0 || grace > MaxGrace {
		return Issued{}, invalid("grace_seconds", fmt.Sprintf("must be between 0 and %d", int(MaxGrace.Seconds())))
	}
	now := s.now()
	var out Issued
	err := s.store.InTx(ctx, func(tx Store) error {
		old, err := tx.KeyByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := actOnKey(by, old); err != nil {
			return err
		}
		if st := old.StateAt(now); st != StateActive {
			return &StateError{Msg: "key " + id + " is " + string(st) + " and cannot be rotated; create a new key instead"}
		}
		secret, d := s.draft(now, by.ID)
		d.Subject, d.Name, d.Scopes, d.Metadata, d.ExpiresAt = old.Subject, old.Name, old.Scopes, old.Metadata, old.ExpiresAt
		d.RotatedFrom = &old.ID
		k, err := tx.KeyInsert(ctx, d)
		if err != nil {
			return err
		}
		end := now.Add(grace)
		if old.ExpiresAt == nil || end.Before(*old.ExpiresAt) {
			if _, err := tx.KeySetExpiry(ctx, old.ID, end); err != nil {
				return err
			}
		} else {
			end = *old.ExpiresAt
		}
		out = s.issued(k, secret)
		return s.record(ctx, tx, by, "key.rotate", "key", old.ID, OutcomeSuccess, map[string]any{
			"new_key_id": k.ID, "new_prefix": k.Prefix, "grace_seconds": int64(grace / time.Second), "old_expires_at": end})
	})
	if err != nil {
		return Issued{}, fmt.Errorf("rotate key %s: %w", id, err)
	}
	return out, nil
}

// RevokeKey ends key id for good, audited (key.revoke) in the same
// transaction. by must hold every scope of the key. Revoking a revoked key
// changes nothing and records nothing.
func (s *Service) RevokeKey(ctx context.Context, id string, by Actor) (Key, error) {
	var out Key
	err := s.store.InTx(ctx, func(tx Store) error {
		k, err := tx.KeyByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := actOnKey(by, k); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			out = k
			return nil
		}
		if out, err = tx.KeyRevoke(ctx, id, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, by, "key.revoke", "key", id, OutcomeSuccess, map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err != nil {
		return Key{}, fmt.Errorf("revoke key %s: %w", id, err)
	}
	return s.shown(out), nil
}

// SetKeyDisabled disables key id, or enables it again, audited (key.disable,
// key.enable) in the same transaction when it changes. by must hold every
// scope of the key. A revoked key stays revoked.
func (s *Service) SetKeyDisabled(ctx context.Context, id string, disabled bool, by Actor) (Key, error) {
	now := s.now()
	var out Key
	err := s.store.InTx(ctx, func(tx Store) error {
		k, err := tx.KeyByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := actOnKey(by, k); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return &StateError{Msg: "key " + id + " is revoked; revocation cannot be undone"}
		}
		if disabled == (k.DisabledAt != nil) { // already so: keep the original time
			out = k
			return nil
		}
		var at *time.Time
		action := "key.enable"
		if disabled {
			at, action = &now, "key.disable"
		}
		if out, err = tx.KeySetDisabled(ctx, id, at); err != nil {
			return err
		}
		return s.record(ctx, tx, by, action, "key", id, OutcomeSuccess, map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err != nil {
		return Key{}, fmt.Errorf("set key %s disabled=%t: %w", id, disabled, err)
	}
	return s.shown(out), nil
}

// Key returns key id. Returns verify.ErrNotFound if there is none.
func (s *Service) Key(ctx context.Context, id string) (Key, error) {
	k, err := s.store.KeyByID(ctx, id)
	if err != nil {
		return Key{}, fmt.Errorf("get key %s: %w", id, err)
	}
	return s.shown(k), nil
}

// Keys returns a page of keys, newest first, and the cursor of the next page
// (nil on the last page).
func (s *Service) Keys(ctx context.Context, state State, after *Cursor, limit int) ([]Key, *Cursor, error) {
	switch state {
	case "", StateActive, StateDisabled, StateRevoked, StateExpired:
	default:
		return nil, nil, invalid("state", "must be one of active, disabled, revoked, expired")
	}
	if limit < 1 || limit > 200 {
		return nil, nil, invalid("limit", "must be between 1 and 200")
	}
	now := s.now()
	keys, err := s.store.KeyList(ctx, KeyFilter{State: state, Now: now, After: after, Limit: limit + 1})
	if err != nil {
		return nil, nil, fmt.Errorf("list keys: %w", err)
	}
	var next *Cursor
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	for i := range keys {
		keys[i].State = keys[i].StateAt(now)
	}
	return keys, next, nil
}

// CountKeys returns how many keys exist, in any state.
func (s *Service) CountKeys(ctx context.Context) (int64, error) { return s.store.KeyCount(ctx) }

// actOnKey refuses unless by holds every scope of k.
func actOnKey(by Actor, k Key) error {
	return authorize(by, AuthorityOf(k.Scopes), "to act on key "+k.ID+", which holds it")
}

// draft mints a secret and the stored form of a new key.
func (s *Service) draft(now time.Time, actor string) (verify.Key, KeyDraft) {
	secret := verify.NewKey(verify.PrefixAPIKey)
	version, mac := s.hasher.Sum(secret.Secret)
	return secret, KeyDraft{
		ID:         "key_" + verify.RandomString(16),
		LookupID:   secret.LookupID,
		SecretMAC:  mac,
		MACVersion: version,
		CreatedAt:  now,
		CreatedBy:  actor,
	}
}

func (s *Service) issued(k Key, secret verify.Key) Issued {
	return Issued{Key: s.shown(k), Secret: secret.Reveal()}
}

func (s *Service) shown(k Key) Key {
	k.State = k.StateAt(s.now())
	return k
}

func (in *NewKey) validate(now time.Time) error {
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
