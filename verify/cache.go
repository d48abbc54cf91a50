package verify

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// keyCache remembers, per lookup id, what the store said: the record and the
// principal built from it, or that no such key exists. Entries live for a fixed
// time; Forget and ForgetAll drop them sooner when the store says a key changed.
type keyCache struct {
	store  KeyStore
	lru    *lru.Cache[string, *entry]
	loads  singleflight.Group
	epoch  atomic.Uint64 // bumped by every Forget: loads that started before it are not kept
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time
}

type entry struct {
	rec       KeyRecord
	principal *Principal
	missing   bool         // the store has no key with this lookup id
	expires   time.Time    // when this entry stops being trusted
	touched   atomic.Int64 // unix seconds of the last use passed to the touch queue
}

// loadTimeout bounds one store read, whoever is waiting for it.
const loadTimeout = 2 * time.Second

func newKeyCache(store KeyStore, size int, ttl, negTTL time.Duration, now func() time.Time) (*keyCache, error) {
	c, err := lru.New[string, *entry](size)
	if err != nil {
		return nil, err
	}
	return &keyCache{store: store, lru: c, ttl: ttl, negTTL: negTTL, now: now}, nil
}

// get returns the entry for lookupID, reading the store at most once at a time
// per lookup id when the cache has nothing fresh. Store failures are returned
// (the caller fails closed); they are never cached.
func (c *keyCache) get(ctx context.Context, lookupID string) (*entry, error) {
	if e, ok := c.lru.Get(lookupID); ok && c.now().Before(e.expires) {
		return e, nil
	}
	v, err, _ := c.loads.Do(lookupID, func() (any, error) {
		epoch := c.epoch.Load()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		e := &entry{}
		rec, err := c.store.KeyByLookupID(ctx, lookupID)
		switch {
		case errors.Is(err, ErrNotFound):
			e.missing, e.expires = true, c.now().Add(c.negTTL)
		case err != nil:
			return nil, fmt.Errorf("load key %s: %w", lookupID, err)
		default:
			e.rec, e.expires = rec, c.now().Add(c.ttl)
			e.principal = NewPrincipal(Principal{Kind: KindAPIKey, Subject: rec.Subject,
				KeyID: rec.ID, KeyName: rec.Name, Scopes: rec.Scopes})
		}
		if c.epoch.Load() == epoch { // nothing changed while we read: safe to keep
			c.lru.Add(lookupID, e)
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*entry), nil
}

func (c *keyCache) forget(lookupID string) {
	c.epoch.Add(1)
	c.lru.Remove(lookupID)
}

func (c *keyCache) forgetAll() {
	c.epoch.Add(1)
	c.lru.Purge()
}
