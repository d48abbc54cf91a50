package usage

import (
	"cmp"
	"context"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Store is where a Counter writes its counts (*db.DB).
type Store interface {
	// UsageAdd adds counts to the stored ones; no two share credential, hour and reason.
	UsageAdd(ctx context.Context, counts []issue.UsageCount) error
}

// Options tune a Counter. Zero fields take the defaults below.
type Options struct {
	Interval          time.Duration // between flushes; default 10 s
	MaxPending        int           // (credential, hour, reason) counting (one counted by several cores at once may take one per core), and as many kept from failed writes; default 100 000
	FinalFlushTimeout time.Duration // for the flush when Run ends; default 5 s
	Now               func() time.Time
	Logger            *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100_000
	}
	if o.FinalFlushTimeout <= 0 {
		o.FinalFlushTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// key is what one count counts: a credential's answers in one hour, allowed
// (verify.ReasonNone) or denied for one reason.
type key struct {
	id     string
	hour   int64 // hours since the Unix epoch
	reason verify.Reason
}

const shards = 64

// shard holds the counts of the credentials hashing to it. Observe adds
// under the read lock, so a flush, which takes the write lock, sees every
// add that found its counter.
type shard struct {
	mu sync.RWMutex
	m  map[key]*atomic.Uint64
	_  [32]byte // keep neighbouring shards' locks off one cache line
}

// Counter counts verify answers per credential, hour and outcome, and writes
// them to a Store in batches. It is a verify.Observer.
type Counter struct {
	store   Store
	opts    Options
	seed    maphash.Seed
	shards  [shards]shard
	pending atomic.Int64  // keys in the shards
	dropped atomic.Uint64 // answers not counted since the last flush, for want of room

	flushMu sync.Mutex     // one flush at a time
	carry   map[key]uint64 // counts of failed writes, written with the next flush (under flushMu)
	scratch []issue.UsageCount
}

var _ verify.Observer = (*Counter)(nil)

// NewCounter returns a Counter writing to store. Start its Run.
func NewCounter(store Store, opts Options) *Counter {
	c := &Counter{store: store, opts: opts.withDefaults(), seed: maphash.MakeSeed(), carry: map[key]uint64{}}
	for i := range c.shards {
		c.shards[i].m = map[key]*atomic.Uint64{}
	}
	return c
}

// Observe implements verify.Observer: it counts d when it names a
// credential, in the hour of d.At (of the counter's clock when d has none).
// It does not block on the store, and allocates only for a (credential,
// hour, reason) new in the hour.
func (c *Counter) Observe(d *verify.Decision) {
	if d.CredentialID == "" {
		return
	}
	at := d.At
	if at.IsZero() {
		at = c.opts.Now()
	}
	k := key{id: d.CredentialID, hour: at.Unix() / 3600, reason: reasonOf(d)}
	// The shard of the credential, moved on by the Decision's slot: cores
	// answering for one busy key at once count in shards of their own (no lock
	// or counter shared between them); Flush adds the shards' counts up.
	sh := &c.shards[(maphash.String(c.seed, k.id)+uint64(d.Slot))%shards]
	sh.mu.RLock()
	if n, ok := sh.m[k]; ok {
		n.Add(1)
		sh.mu.RUnlock()
		return
	}
	sh.mu.RUnlock()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if n, ok := sh.m[k]; ok { // added meanwhile
		n.Add(1)
		return
	}
	if c.pending.Add(1) > int64(c.opts.MaxPending) {
		c.pending.Add(-1)
		c.dropped.Add(1)
		return
	}
	k.id = strings.Clone(k.id) // the Decision is the caller's
	n := new(atomic.Uint64)
	n.Store(1)
	sh.m[k] = n
}

// reasonOf is d's reason as counted: ReasonNone for an allow, and never
// ReasonNone for anything else.
func reasonOf(d *verify.Decision) verify.Reason {
	switch {
	case d.Outcome == verify.OutcomeAllow:
		return verify.ReasonNone
	case d.Outcome == verify.OutcomeRateLimited:
		return verify.ReasonRateLimited
	case d.Reason == verify.ReasonNone:
		return verify.ReasonInternal
	}
	return d.Reason
}

// Run flushes every Options.Interval until ctx ends, then once more within
// Options.FinalFlushTimeout. Failures are logged; Run returns when ctx ends.
func (c *Counter) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FinalFlushTimeout)
			defer cancel()
			if err := c.Flush(final); err != nil {
				c.opts.Logger.Error("usage counts lost at shutdown", "err", err.Error())
			}
			return
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.opts.Logger.Error("usage counts not written; kept for the next flush", "err", err.Error())
			}
		}
	}
}

// Flush writes the counts taken since the last flush, with those of failed
// writes, in one statement. On failure it keeps them for the next flush (as
// many as MaxPending allows) and returns the error. When answers were
// dropped for want of room since the last flush, it logs one warning.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.take()
	if n := c.dropped.Swap(0); n > 0 {
		c.opts.Logger.Warn("usage counts dropped: too many credentials counted at once", "answers", n,
			"max_pending", c.opts.MaxPending)
	}
	if len(c.carry) == 0 {
		return nil
	}
	batch := c.scratch[:0]
	for k, n := range c.carry {
		u := issue.UsageCount{CredentialID: k.id, Hour: time.Unix(k.hour*3600, 0).UTC(), Count: int64(n)}
		if k.reason != verify.ReasonNone {
			u.Reason = k.reason.String()
		}
		batch = append(batch, u)
	}
	// One order for every instance's batches, so that they lock rows alike.
	slices.SortFunc(batch, func(a, b issue.UsageCount) int {
		return cmp.Or(strings.Compare(a.CredentialID, b.CredentialID), a.Hour.Compare(b.Hour),
			strings.Compare(a.Reason, b.Reason))
	})
	err := c.store.UsageAdd(ctx, batch)
	clear(batch)
	c.scratch = batch[:0]
	if err != nil {
		return err
	}
	clear(c.carry)
	return nil
}

// take moves every count into carry, resetting the counters; the keys of
// hours past are removed, those of this hour kept, so that their answers do
// not allocate again.
func (c *Counter) take() {
	now := c.opts.Now().Unix() / 3600
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, n := range sh.m {
			if v := n.Swap(0); v > 0 {
				c.addCarry(k, v)
			}
			if k.hour < now {
				delete(sh.m, k)
				c.pending.Add(-1)
			}
		}
		sh.mu.Unlock()
	}
}

// addCarry adds v to k's count to write. Carry holds at most MaxPending
// keys: when failed writes have filled it, a new key's answers are dropped.
func (c *Counter) addCarry(k key, v uint64) {
	if _, ok := c.carry[k]; !ok && len(c.carry) >= c.opts.MaxPending {
		c.dropped.Add(v)
		return
	}
	c.carry[k] += v
}
