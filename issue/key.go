package issue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	ID          string
	Prefix      string // agk_ + lookup id: how a key is recognised in lists and logs
	Subject     string
	Name        string
	Scopes      []string
	Metadata    json.RawMessage
	State       State
	ExpiresAt   *time.Time
	DisabledAt  *time.Time
	RevokedAt   *time.Time
	RotatedFrom *string
	LastUsedAt  *time.Time
	CreatedAt   time.Time
	CreatedBy   string
	RateLimit   *RateLimit // nil: none of its own (a route's rate= still applies)
}

// RateLimit is a credential's own rate limit, decided on the verify
// endpoints like a route's rate= (verify.RateRule): Requests per
// WindowSeconds, in bursts of up to Burst.
type RateLimit struct {
	Requests      int
	WindowSeconds int
	Burst         int
}

// Bounds of a RateLimit, verify.ParseRate's.
const (
	MaxRateRequests      = 1_000_000
	MaxRateWindowSeconds = 24 * 60 * 60
)

// validate checks l, filling in the default burst (Requests).
func (l *RateLimit) validate() error {
	if l.Burst == 0 {
		l.Burst = l.Requests
	}
	switch {
	case l.Requests < 1 || l.Requests > MaxRateRequests:
		return invalid("rate_limit.requests", fmt.Sprintf("must be between 1 and %d", MaxRateRequests))
	case l.WindowSeconds < 1 || l.WindowSeconds > MaxRateWindowSeconds:
		return invalid("rate_limit.window_seconds", fmt.Sprintf("must be between 1 and %d (a day)", MaxRateWindowSeconds))
	case l.Burst < 1 || l.Burst > MaxRateRequests:
		return invalid("rate_limit.burst", fmt.Sprintf("must be between 1 and %d (default: requests)", MaxRateRequests))
	case float64(l.WindowSeconds)*float64(l.Burst)/float64(l.Requests) > MaxRateWindowSeconds:
		return invalid("rate_limit.burst", "a full burst would take longer than a day to come back: lower it, or raise requests")
	}
	return nil
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

// KeyRequest is what a caller asks for when creating a key.
type KeyRequest struct {
	Name      string
	Scopes    []string
	ExpiresAt *time.Time
	Metadata  json.RawMessage
	RateLimit *RateLimit // nil: none
}

// IssuedKey is a freshly minted key. Secret is the full credential: it is shown
// once, to the caller, and stored nowhere.
type IssuedKey struct {
	Key
	Secret string
}

// CreateKey validates in and stores a new key created by by, audited
// (key.create) in the same transaction. by must hold every scope of the key
// (the authority rule). Returns a *FieldError (ErrInvalid) naming the first
// bad field, a *PermissionError (ErrPermission) naming a scope by lacks.
func (s *Service) CreateKey(ctx context.Context, in KeyRequest, by Actor) (IssuedKey, error) {
	now := s.now()
	if err := in.validate(now); err != nil {
		return IssuedKey{}, err
	}
	if err := authorize(by, AuthorityOf(in.Scopes), "to give it to a key"); err != nil {
		return IssuedKey{}, fmt.Errorf("create key: %w", err)
	}
	secret, d := s.draft(now, by.ID)
	d.Subject, d.Name, d.Scopes, d.Metadata, d.ExpiresAt, d.RateLimit = d.ID, in.Name, in.Scopes, in.Metadata, in.ExpiresAt, in.RateLimit
	var out IssuedKey
	err := s.store.InTx(ctx, func(tx Store) error {
		k, err := tx.KeyInsert(ctx, d)
		if err != nil {
			return err
		}
		out = s.issued(k, secret)
		meta := map[string]any{"name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes, "expires_at": k.ExpiresAt}
		if k.RateLimit != nil {
			meta["rate_limit"] = rateLimitAudit(k.RateLimit)
		}
		return s.record(ctx, tx, by, ActionKeyCreate, k.ID, OutcomeSuccess, meta)
	})
	if err != nil {
		return IssuedKey{}, fmt.Errorf("create key: %w", err)
	}
	return out, nil
}

// RotateKey mints a successor to key id with the same subject, name, scopes,
// metadata, expiry and rate limit, and makes the old key expire at the earlier of its own
// expiry and now + grace. A revoked, disabled or expired key cannot be rotated.
// by must hold every scope of the key. Audited as key.rotate on the old key.
func (s *Service) RotateKey(ctx context.Context, id string, grace time.Duration, by Actor) (IssuedKey, error) {
	if grace < 0 || grace > MaxGrace {
		return IssuedKey{}, invalid("grace_seconds", fmt.Sprintf("must be between 0 and %d", int(MaxGrace.Seconds())))
	}
	now := s.now()
	var out IssuedKey
	err := s.store.InTx(ctx, func(tx Store) error {
		old, err := tx.KeyByIDForUpdate(ctx, id)
		if err != nil {
			return missing(err, "key", id)
		}
		if err := actOnKey(by, old); err != nil {
			return err
		}
		if st := old.StateAt(now); st != StateActive {
			return &StateError{Msg: "key " + id + " is " + string(st) + " and cannot be rotated; create a new key instead"}
		}
		secret, d := s.draft(now, by.ID)
		d.Subject, d.Name, d.Scopes, d.Metadata, d.ExpiresAt = old.Subject, old.Name, old.Scopes, old.Metadata, old.ExpiresAt
		d.RateLimit = old.RateLimit
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
		return s.record(ctx, tx, by, ActionKeyRotate, old.ID, OutcomeSuccess, map[string]any{
			"new_key_id": k.ID, "new_prefix": k.Prefix, "grace_seconds": int64(grace / time.Second), "old_expires_at": end})
	})
	if err != nil {
		return IssuedKey{}, fmt.Errorf("rotate key %s: %w", id, err)
	}
	return out, nil
}

// RevokeKey ends key id for good, audited (key.revoke) in the same
// transaction. by must hold every scope of the key. Revoking a revoked key
// changes nothing and records nothing.
func (s *Service) RevokeKey(ctx context.Context, id string, by Actor) (Key, error) {
	out, err := s.changeKey(ctx, id, by, func(tx Store, k Key) (Key, error) {
		if k.RevokedAt != nil {
			return k, nil
		}
		out, err := tx.KeyRevoke(ctx, id, s.now())
		if err != nil {
			return Key{}, err
		}
		return out, s.record(ctx, tx, by, ActionKeyRevoke, id, OutcomeSuccess, map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err != nil {
		return Key{}, fmt.Errorf("revoke key %s: %w", id, err)
	}
	return out, nil
}

// SetKeyDisabled disables key id (disabled true) or enables it again
// (false), audited (key.disable, key.enable) in the same transaction when it
// changes; disabling twice keeps the first time. by must hold every scope of
// the key. A revoked key stays revoked (StateError).
func (s *Service) SetKeyDisabled(ctx context.Context, id string, disabled bool, by Actor) (Key, error) {
	now := s.now()
	out, err := s.changeKey(ctx, id, by, func(tx Store, k Key) (Key, error) {
		if k.RevokedAt != nil {
			return Key{}, &StateError{Msg: "key " + id + " is revoked; revocation cannot be undone"}
		}
		if disabled == (k.DisabledAt != nil) { // already so: keep the original time
			return k, nil
		}
		var at *time.Time
		action := ActionKeyEnable
		if disabled {
			at, action = &now, ActionKeyDisable
		}
		out, err := tx.KeySetDisabled(ctx, id, at)
		if err != nil {
			return Key{}, err
		}
		return out, s.record(ctx, tx, by, action, id, OutcomeSuccess, map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err != nil {
		return Key{}, fmt.Errorf("set key %s disabled=%t: %w", id, disabled, err)
	}
	return out, nil
}

// SetKeyRateLimit gives key id its own rate limit, or takes it away (l
// nil), audited (key.rate_limit) in the same transaction. Every instance
// applies it within AUTHGATE_CACHE_TTL (at once where the change is
// announced). by must hold every scope of the key, and may not be the key
// itself (an *AuthError, ErrPermission): a limited key does not lift its own limit.
// A revoked key cannot be changed (StateError); a *FieldError names a bad
// figure.
func (s *Service) SetKeyRateLimit(ctx context.Context, id string, l *RateLimit, by Actor) (Key, error) {
	if l != nil {
		if err := l.validate(); err != nil {
			return Key{}, err
		}
	}
	if by.ID == "key:"+id {
		return Key{}, &AuthError{Err: ErrPermission, Msg: "a key cannot change its own rate limit; another key or an admin can"}
	}
	out, err := s.changeKey(ctx, id, by, func(tx Store, k Key) (Key, error) {
		if k.RevokedAt != nil {
			return Key{}, &StateError{Msg: "key " + id + " is revoked"}
		}
		out, err := tx.KeySetRateLimit(ctx, id, l)
		if err != nil {
			return Key{}, err
		}
		return out, s.record(ctx, tx, by, ActionKeyRateLimit, id, OutcomeSuccess, map[string]any{
			"name": k.Name, "prefix": k.Prefix, "rate_limit": rateLimitAudit(l)})
	})
	if err != nil {
		return Key{}, fmt.Errorf("set rate limit of key %s: %w", id, err)
	}
	return out, nil
}

// changeKey runs change on key id, locked, in one transaction with the
// checks every change of a key makes first: the key exists (ErrNotFound) and
// by holds every scope of it (actOnKey). It returns the key as changed,
// shown as of now.
func (s *Service) changeKey(ctx context.Context, id string, by Actor, change func(tx Store, k Key) (Key, error)) (Key, error) {
	var out Key
	err := s.store.InTx(ctx, func(tx Store) error {
		k, err := tx.KeyByIDForUpdate(ctx, id)
		if err != nil {
			return missing(err, "key", id)
		}
		if err := actOnKey(by, k); err != nil {
			return err
		}
		out, err = change(tx, k)
		return err
	})
	if err != nil {
		return Key{}, err
	}
	return s.shown(out), nil
}

// rateLimitAudit is l as an audit row shows it: null for none.
func rateLimitAudit(l *RateLimit) any {
	if l == nil {
		return nil
	}
	return map[string]int{"requests": l.Requests, "window_seconds": l.WindowSeconds, "burst": l.Burst}
}

// Key returns key id. Returns verify.ErrNotFound if there is none.
func (s *Service) Key(ctx context.Context, id string) (Key, error) {
	k, err := s.store.KeyByID(ctx, id)
	if err != nil {
		return Key{}, fmt.Errorf("get key %s: %w", id, missing(err, "key", id))
	}
	return s.shown(k), nil
}

// Keys returns a page of keys, newest first, and the cursor of the next page
// (nil on the last page). A zero limit means DefaultPageLimit.
func (s *Service) Keys(ctx context.Context, state State, after *Cursor, limit int) ([]Key, *Cursor, error) {
	switch state {
	case "", StateActive, StateDisabled, StateRevoked, StateExpired:
	default:
		return nil, nil, invalid("state", "must be one of active, disabled, revoked, expired")
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	keys, err := s.store.KeyList(ctx, KeyFilter{State: state, Now: now, After: after, Limit: limit + 1})
	if err != nil {
		return nil, nil, fmt.Errorf("list keys: %w", err)
	}
	keys, last := cutPage(keys, limit)
	var next *Cursor
	if last != nil {
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

func (s *Service) issued(k Key, secret verify.Key) IssuedKey {
	return IssuedKey{Key: s.shown(k), Secret: secret.Reveal()}
}

func (s *Service) shown(k Key) Key {
	k.State = k.StateAt(s.now())
	return k
}
