package issue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/verify"
)

// SigningKeysOptions configure a SigningKeys.
type SigningKeysOptions struct {
	// Alg is the algorithm of the keys this instance creates and signs with:
	// verify.AlgES256 (the default), verify.AlgEdDSA or verify.AlgHS256.
	Alg string
	// HSSecret is the HS256 secret, at least 32 bytes. Required for HS256;
	// with another Alg it lets tokens signed under HS256 earlier verify until
	// their key retires.
	HSSecret []byte
	// Overlap is how long a replaced key still verifies: the service's
	// AccessTTL + Leeway, so every token it signed expires first. Default 15m30s.
	Overlap time.Duration
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default discards
}

// SigningKeys is the JWT signing keys every instance holds in memory: it signs
// access tokens with the newest key of its algorithm, answers the verifier's
// key lookups without locks, and serves the JWKS. The database is the truth:
// Reload, called at start and on every signing-key notification, replaces the
// set at once. A SigningKeys is safe for concurrent use.
type SigningKeys struct {
	store   Store
	sealer  *Sealer
	alg     string
	hs      []byte
	overlap time.Duration
	now     func() time.Time
	log     *slog.Logger

	reload sync.Mutex // so an older listing never replaces a newer one
	ring   atomic.Pointer[keyring]
}

// keyring is one immutable snapshot of the keys.
type keyring struct {
	keys   map[string]*liveKey
	signer *liveKey // nil: this instance cannot sign
	jwks   []byte
}

var (
	_ verify.JWTKeys = (*SigningKeys)(nil)
	_ TokenSigner    = (*SigningKeys)(nil)
)

// NewSigningKeys returns an empty SigningKeys over store; call Ensure (or Reload) before use.
func NewSigningKeys(store Store, sealer *Sealer, o SigningKeysOptions) (*SigningKeys, error) {
	switch o.Alg {
	case "":
		o.Alg = verify.AlgES256
	case verify.AlgES256, verify.AlgEdDSA, verify.AlgHS256:
	default:
		return nil, fmt.Errorf("signing keys: algorithm %q is not ES256, EdDSA or HS256", o.Alg)
	}
	switch {
	case sealer == nil:
		return nil, errors.New("signing keys: a Sealer is required")
	case o.HSSecret != nil && len(o.HSSecret) < 32, o.Alg == verify.AlgHS256 && o.HSSecret == nil:
		return nil, errors.New("signing keys: the HS256 secret must be at least 32 bytes")
	case o.Overlap < 0:
		return nil, errors.New("signing keys: Overlap must not be negative")
	}
	if o.Overlap == 0 {
		o.Overlap = 15*time.Minute + 30*time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &SigningKeys{store: store, sealer: sealer, alg: o.Alg, hs: slices.Clone(o.HSSecret), overlap: o.Overlap,
		now: o.Now, log: o.Logger}, nil
}

// Ensure makes sure a signing key of the configured algorithm exists, creating
// one if not, then loads the set. It holds the signing-key lock, so instances
// starting together create one key between them. Keys of other algorithms
// are left alone until Rotate: instances not yet moved to this algorithm
// still sign with them. A current HS256 key of another secret is retired after
// the overlap and replaced; a current key sealed under another
// AUTHGATE_SECRET is an error.
func (ks *SigningKeys) Ensure(ctx context.Context) error {
	err := ks.store.InTx(ctx, func(tx Store) error {
		if err := tx.SigningKeyLock(ctx); err != nil {
			return err
		}
		now := ks.now()
		rows, err := tx.SigningKeyList(ctx, now)
		if err != nil {
			return err
		}
		var unopened error
		for _, row := range rows {
			if row.Alg != ks.alg || row.RetireAt != nil {
				continue
			}
			_, err := openSigningKey(row, ks.sealer, ks.hs)
			if err == nil {
				return nil
			}
			unopened = fmt.Errorf("current signing key %s: %w", row.KID, err)
		}
		// A key sealed under another AUTHGATE_SECRET is not replaced: one
		// instance started with the wrong secret would take signing away from
		// the others. An HS256 key of another secret is: that is how HS256 rotates.
		if unopened != nil && ks.alg != verify.AlgHS256 {
			return fmt.Errorf("%w; start with the AUTHGATE_SECRET it was sealed under (to start over with new keys, delete the rows of signing_keys)", unopened)
		}
		kid, retiring, err := ks.replace(ctx, tx, now, false)
		if err != nil {
			return err
		}
		meta := map[string]any{"kid": kid, "alg": ks.alg}
		if len(retiring) > 0 {
			meta["retiring"] = retiring
		}
		return appendAudit(ctx, tx, now, Actor{ID: ActorSystem}, ActionSigningKeyCreate, kid, OutcomeSuccess, meta)
	})
	if err != nil {
		return fmt.Errorf("ensure signing key: %w", err)
	}
	return ks.Reload(ctx)
}

// Rotation is the outcome of Rotate.
type Rotation struct {
	KID      string    // the new signing key, published and signing at once
	Retiring []string  // the keys it replaces
	RetireAt time.Time // they verify until then
}

// Rotate replaces the current signing keys: those without a retire time, of
// every algorithm (so one left by an earlier configuration goes too), retire
// after the overlap; a new one of the configured algorithm is stored and the
// change audited (signing_key.rotate), in one transaction under the
// signing-key lock; then the set reloads. Other instances switch when they
// reload on the change notification. An HS256 key comes from the environment
// and is not rotated here (ErrConflict): change the secret and restart instead.
func (ks *SigningKeys) Rotate(ctx context.Context, by Actor) (Rotation, error) {
	if ks.alg == verify.AlgHS256 {
		return Rotation{}, &StateError{Msg: "the HS256 signing key comes from the environment: change its secret and restart to rotate it"}
	}
	var out Rotation
	err := ks.store.InTx(ctx, func(tx Store) error {
		if err := tx.SigningKeyLock(ctx); err != nil {
			return err
		}
		now := ks.now()
		kid, retiring, err := ks.replace(ctx, tx, now, true)
		if err != nil {
			return err
		}
		out = Rotation{KID: kid, Retiring: retiring, RetireAt: now.Add(ks.overlap)}
		return appendAudit(ctx, tx, now, by, ActionSigningKeyRotate, kid, OutcomeSuccess,
			map[string]any{"kid": kid, "alg": ks.alg, "retiring": retiring, "retire_at": out.RetireAt})
	})
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate signing key: %w", err)
	}
	if err := ks.Reload(ctx); err != nil {
		return out, fmt.Errorf("signing key rotated to %s, but: %w", out.KID, err)
	}
	return out, nil
}

// replace retires, after the overlap, the keys without a retire time of the
// configured algorithm (with everyAlg, of every algorithm), and stores a new
// one; inside the caller's transaction, under the signing-key lock. Returns
// the new kid and the retiring ones.
func (ks *SigningKeys) replace(ctx context.Context, tx Store, now time.Time, everyAlg bool) (string, []string, error) {
	rows, err := tx.SigningKeyList(ctx, now)
	if err != nil {
		return "", nil, err
	}
	retiring := []string{}
	var algs []string
	for _, row := range rows {
		if row.RetireAt == nil && (everyAlg || row.Alg == ks.alg) {
			retiring = append(retiring, row.KID)
			if !slices.Contains(algs, row.Alg) {
				algs = append(algs, row.Alg)
			}
		}
	}
	for _, alg := range algs {
		if err := tx.SigningKeyRetire(ctx, alg, now.Add(ks.overlap)); err != nil {
			return "", nil, err
		}
	}
	var row SigningKey
	if ks.alg == verify.AlgHS256 {
		row = hsSigningKey(ks.hs, now)
	} else if row, _, err = newSigningKey(ks.alg, ks.sealer, now); err != nil {
		return "", nil, err
	}
	if err := tx.SigningKeyInsert(ctx, row); err != nil {
		if errors.Is(err, ErrConflict) && ks.alg == verify.AlgHS256 {
			return "", nil, fmt.Errorf("HS256 key %s was retired earlier; configure a new HS256 secret: %w", row.KID, err)
		}
		return "", nil, err
	}
	return row.KID, retiring, nil
}

// Reload replaces the in-memory set with the keys stored and not retired now.
// Keys that do not open (see Ensure) are left out and logged. Returns an error
// if no key of the configured algorithm can sign; the set is replaced even then.
func (ks *SigningKeys) Reload(ctx context.Context) error {
	ks.reload.Lock()
	defer ks.reload.Unlock()
	rows, err := ks.store.SigningKeyList(ctx, ks.now())
	if err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	r := &keyring{keys: make(map[string]*liveKey, len(rows))}
	set := struct {
		Keys []*jwk `json:"keys"`
	}{Keys: []*jwk{}}
	for _, row := range rows { // newest first
		k, err := openSigningKey(row, ks.sealer, ks.hs)
		if err != nil {
			ks.log.Error("signing key left out", "kid", row.KID, "alg", row.Alg, "err", err.Error())
			continue
		}
		r.keys[k.kid] = k
		if r.signer == nil && k.alg == ks.alg && k.retireAt == nil {
			r.signer = k
		}
		if k.jwk != nil {
			set.Keys = append(set.Keys, k.jwk)
		}
	}
	if r.jwks, err = json.Marshal(set); err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	ks.ring.Store(r)
	if r.signer == nil {
		return fmt.Errorf("reload signing keys: %w", errNoSigningKey(ks.alg))
	}
	return nil
}

func errNoSigningKey(alg string) error {
	return fmt.Errorf("no %s signing key that this server can open", alg)
}

// VerificationKey returns the algorithm and public key (the secret for HS256)
// of key kid, if it is in the set and not retired now. It takes no lock and
// does not allocate.
func (ks *SigningKeys) VerificationKey(kid string) (alg string, key any, ok bool) {
	r := ks.ring.Load()
	if r == nil {
		return "", nil, false
	}
	k := r.keys[kid]
	if k == nil || k.retireAt != nil && !ks.now().Before(*k.retireAt) {
		return "", nil, false
	}
	return k.alg, k.public, true
}

// Sign signs claims as an access token with the current key: header kid and
// typ at+jwt. Fails, closed, when this instance has no key to sign with.
func (ks *SigningKeys) Sign(_ context.Context, claims verify.AccessClaims) (string, error) {
	r := ks.ring.Load()
	if r == nil || r.signer == nil {
		return "", fmt.Errorf("sign access token: %w", errNoSigningKey(ks.alg))
	}
	t := jwt.NewWithClaims(r.signer.method, &claims)
	t.Header["kid"] = r.signer.kid
	t.Header["typ"] = verify.TypAccessToken
	s, err := t.SignedString(r.signer.private)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// JWKS returns the public keys as a JSON Web Key Set (RFC 7517), newest first:
// the signing key and those retiring. HS256 keys are never published. The
// bytes are shared: do not modify them.
func (ks *SigningKeys) JWKS() []byte {
	if r := ks.ring.Load(); r != nil {
		return r.jwks
	}
	return []byte(`{"keys":[]}`)
}
