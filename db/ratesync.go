package db

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/verify"
)

// RateSyncOptions configure a RateSync. Zero values take the defaults shown.
type RateSyncOptions struct {
	Instance string        // this instance's name, unique among those sharing the database; required
	Interval time.Duration // how often counts are exchanged; default 1 s
	Logger   *slog.Logger
}

// RateSync makes the routes' rate limits hold across instances: every
// Interval it adds to the database what its limiter admitted since the last
// exchange and charges its limiter with what the other instances added. A
// client spread over N instances gets, at most, N bursts at once and then
// the rule's rate plus what the other instances admit within one Interval
// (and the database round trip) before they hear of it; see the README's
// "Rate limits".
type RateSync struct {
	db      *DB
	limiter *verify.Limiter
	o       RateSyncOptions
	seen    map[int64]time.Time // rows of the others already charged, until they leave the lookback
	cursor  int64               // the highest id read so far
}

// rateLookback is how old a row may be and still be read: far more than an
// Interval, and the bound on how long counts are kept.
const rateLookback = 10 * time.Second

// rateIDSlack is how far below the highest id read so far each exchange
// reads again: ids are taken in insert order but committed in any order, so
// a row with a lower id may appear after a higher one was read. Each is
// charged once (seen).
const rateIDSlack = 1_000

// rateMaxRows bounds one read; an exchange reads pages until one is short.
const rateMaxRows = 10_000

// NewRateSync returns a RateSync for limiter over store.
func NewRateSync(store *DB, limiter *verify.Limiter, o RateSyncOptions) (*RateSync, error) {
	if o.Instance == "" || len(o.Instance) > 64 {
		return nil, errors.New("db: RateSyncOptions.Instance must be 1 to 64 characters")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &RateSync{db: store, limiter: limiter, o: o, seen: map[int64]time.Time{}}, nil
}

// Run exchanges counts every Interval until ctx is done. A failed exchange
// is logged; the counts it could not write are lost (the limit is then
// looser for one Interval, never tighter).
func (s *RateSync) Run(ctx context.Context) {
	tick := time.NewTicker(s.o.Interval)
	defer tick.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.Exchange(ctx); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("rate limit exchange failed", "err", err.Error())
			}
		case <-prune.C:
			if _, err := s.db.q.RateCountsPrune(ctx, (2 * rateLookback).Seconds()); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("rate limit counts: pruning failed", "err", err.Error())
			}
		}
	}
}

// Exchange writes what the limiter admitted since the last exchange and
// charges it with what the others wrote since.
func (s *RateSync) Exchange(ctx context.Context) error {
	if mine := s.limiter.Drain(); len(mine) > 0 {
		p := dbsqlc.RateCountsAddParams{Instance: s.o.Instance}
		for _, c := range mine {
			p.Whos = append(p.Whos, c.Who)
			p.Routes = append(p.Routes, c.Where)
			p.Requests = append(p.Requests, int32(c.Rule.Requests))
			p.WindowMs = append(p.WindowMs, c.Rule.Window.Milliseconds())
			p.Bursts = append(p.Bursts, int32(c.Rule.Burst))
			p.Ns = append(p.Ns, c.N)
		}
		if err := s.db.q.RateCountsAdd(ctx, p); err != nil {
			return err
		}
	}
	now := time.Now()
	var theirs []verify.RateCount
	for {
		rows, err := s.db.q.RateCountsRecent(ctx, dbsqlc.RateCountsRecentParams{After: max(s.cursor-rateIDSlack, 0),
			LookbackSeconds: rateLookback.Seconds(), Instance: s.o.Instance, MaxRows: rateMaxRows})
		if err != nil {
			return err
		}
		fresh := 0
		for _, r := range rows {
			s.cursor = max(s.cursor, r.ID)
			if _, ok := s.seen[r.ID]; ok {
				continue
			}
			s.seen[r.ID] = now
			fresh++
			theirs = append(theirs, verify.RateCount{Who: r.Who, Where: r.Route, N: r.N, Rule: verify.RateRule{
				Requests: int(r.Requests), Window: time.Duration(r.WindowMs) * time.Millisecond, Burst: int(r.Burst)}})
		}
		if len(rows) < rateMaxRows || fresh == 0 {
			break
		}
	}
	for id, at := range s.seen {
		if now.Sub(at) > 2*rateLookback {
			delete(s.seen, id)
		}
	}
	s.limiter.Absorb(theirs)
	if len(theirs) > 0 {
		var n int64
		for _, c := range theirs {
			n += c.N
		}
		s.o.Logger.Debug("rate limit exchange", "rows", len(theirs), "requests", n)
	}
	return nil
}
