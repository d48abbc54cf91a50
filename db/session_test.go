package db_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// newSession stores a session of userID created at createdAt, live for an hour.
func newSession(t *testing.T, store *db.DB, userID string, createdAt time.Time) issue.Session {
	t.Helper()
	s := issue.Session{ID: "ses_" + verify.RandomString(16), UserID: userID, CreatedAt: createdAt,
		RefreshedAt: createdAt, IdleExpiresAt: createdAt.Add(time.Hour), ExpiresAt: createdAt.Add(24 * time.Hour),
		IP: "192.0.2.1", UserAgent: "test"}
	if err := store.SessionInsert(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDB_SessionInsertAndRead(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	s := newSession(t, store, u.ID, t0)
	got, err := store.SessionByID(ctx, s.ID)
	if err != nil || got.UserID != u.ID || !got.ExpiresAt.Equal(s.ExpiresAt) || got.IP != s.IP ||
		got.RevokedAt != nil || got.RevokeReason != nil {
		t.Fatalf("SessionByID = %+v, %v; want %+v", got, err, s)
	}
	later := t0.Add(time.Minute)
	if err := store.SessionTouch(ctx, s.ID, later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = store.SessionByIDForUpdate(ctx, s.ID)
	if !got.RefreshedAt.Equal(later) || !got.IdleExpiresAt.Equal(later.Add(time.Hour)) {
		t.Fatalf("after SessionTouch: refreshed %v, idle expiry %v; want %v, %v", got.RefreshedAt, got.IdleExpiresAt, later, later.Add(time.Hour))
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"ByID", func() error { _, err := store.SessionByID(ctx, "ses_nope"); return err }},
		{"Touch", func() error { return store.SessionTouch(ctx, "ses_nope", t0, t0) }},
		{"InsertForUnknownUser", func() error {
			return store.SessionInsert(ctx, issue.Session{ID: "ses_x", UserID: "usr_nope", CreatedAt: t0,
				RefreshedAt: t0, IdleExpiresAt: t0, ExpiresAt: t0})
		}},
		{"Revoke", func() error { _, err := store.SessionRevoke(ctx, "ses_nope", t0, issue.ReasonLogout, t0); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, verify.ErrNotFound) {
				t.Fatalf("err = %v; want ErrNotFound", err)
			}
		})
	}
}

func TestDB_SessionListLive(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u, other := newUser(t, store, "alice", t0), newUser(t, store, "bob", t0)
	now := t0.Add(30 * time.Minute)
	second := newSession(t, store, u.ID, t0.Add(time.Second))
	first := newSession(t, store, u.ID, t0)
	revoked := newSession(t, store, u.ID, t0)
	store.SessionRevoke(ctx, revoked.ID, t0, issue.ReasonLogout, now)
	idle := newSession(t, store, u.ID, t0.Add(-2*time.Hour)) // idle expiry passed, absolute not
	store.SessionTouch(ctx, idle.ID, t0.Add(-2*time.Hour), now)
	old := newSession(t, store, u.ID, t0.Add(-48*time.Hour)) // absolute expiry passed, idle not
	store.SessionTouch(ctx, old.ID, t0, now.Add(time.Hour))
	newSession(t, store, other.ID, t0)

	got, err := store.SessionListLive(ctx, u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if want := []string{first.ID, second.ID}; !slices.Equal(ids, want) {
		t.Fatalf("SessionListLive = %v; want %v (oldest first)", ids, want)
	}
}

func TestDB_SessionRevokeIsIdempotent(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	s := newSession(t, store, u.ID, t0)
	deny := t0.Add(15 * time.Minute)
	for _, tc := range []struct {
		name   string
		at     time.Time
		reason string
		want   bool
	}{
		{"First", t0, issue.ReasonLogout, true},
		{"Again", t0.Add(time.Minute), issue.ReasonRevoked, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := store.SessionRevoke(ctx, s.ID, tc.at, tc.reason, deny)
			if err != nil || changed != tc.want {
				t.Fatalf("SessionRevoke = %v, %v; want %v", changed, err, tc.want)
			}
		})
	}
	got, _ := store.SessionByID(ctx, s.ID)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(t0) || got.RevokeReason == nil || *got.RevokeReason != issue.ReasonLogout {
		t.Fatalf("session after two revokes: %v, %v; want the first, %v logout", got.RevokedAt, got.RevokeReason, t0)
	}
	revs, err := store.SessionRevocationsSince(ctx, 0, t0)
	if err != nil || len(revs) != 1 || revs[0].SessionID != s.ID || !revs[0].ExpiresAt.Equal(deny) {
		t.Fatalf("revocations = %+v, %v; want exactly one for %s until %v", revs, err, s.ID, deny)
	}
}

func TestDB_SessionRevokeAllForUser(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u, other := newUser(t, store, "alice", t0), newUser(t, store, "bob", t0)
	a, b := newSession(t, store, u.ID, t0), newSession(t, store, u.ID, t0)
	gone := newSession(t, store, u.ID, t0)
	store.SessionRevoke(ctx, gone.ID, t0, issue.ReasonLogout, t0.Add(time.Minute))
	kept := newSession(t, store, other.ID, t0)

	ids, err := store.SessionRevokeAllForUser(ctx, u.ID, t0, issue.ReasonUserDisabled, t0.Add(time.Hour))
	if want := slices.Sorted(slices.Values([]string{a.ID, b.ID})); err != nil || !slices.Equal(ids, want) {
		t.Fatalf("SessionRevokeAllForUser = %v, %v; want %v", ids, err, want)
	}
	if ids, _ := store.SessionRevokeAllForUser(ctx, u.ID, t0, issue.ReasonUserDisabled, t0); len(ids) != 0 {
		t.Fatalf("second SessionRevokeAllForUser = %v; want none", ids)
	}
	revs, _ := store.SessionRevocationsSince(ctx, 0, t0)
	var denied []string
	for _, r := range revs {
		denied = append(denied, r.SessionID)
	}
	if want := []string{gone.ID, a.ID, b.ID}; len(denied) != 3 || denied[0] != want[0] ||
		!slices.Equal(slices.Sorted(slices.Values(denied[1:])), slices.Sorted(slices.Values(want[1:]))) {
		t.Fatalf("deny-list = %v; want %v", denied, want)
	}
	if s, _ := store.SessionByID(ctx, kept.ID); s.RevokedAt != nil {
		t.Fatalf("other user's session revoked at %v; want live", s.RevokedAt)
	}
}

func TestDB_SessionRevocationsSince(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	var ids []string
	for i, deny := range []time.Duration{time.Hour, time.Minute, 2 * time.Hour} {
		s := newSession(t, store, u.ID, t0.Add(time.Duration(i)*time.Second))
		store.SessionRevoke(ctx, s.ID, t0, issue.ReasonRevoked, t0.Add(deny))
		ids = append(ids, s.ID)
	}
	all, _ := store.SessionRevocationsSince(ctx, 0, t0)
	for _, tc := range []struct {
		name  string
		after int64
		now   time.Time
		want  []string
	}{
		{"All", 0, t0, ids},
		{"AfterFirst", all[0].Seq, t0, ids[1:]},
		{"ExpiredLeftOut", 0, t0.Add(30 * time.Minute), []string{ids[0], ids[2]}},
		{"ExpiresAtIsExclusive", 0, t0.Add(time.Hour), ids[2:]},
		{"AfterLast", all[2].Seq, t0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			revs, err := store.SessionRevocationsSince(ctx, tc.after, tc.now)
			var got []string
			for i, r := range revs {
				got = append(got, r.SessionID)
				if i > 0 && revs[i-1].Seq >= r.Seq {
					t.Fatalf("seq %d before %d; want increasing", revs[i-1].Seq, r.Seq)
				}
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("SessionRevocationsSince = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	n, err := store.SessionRevocationsPrune(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("SessionRevocationsPrune = %d, %v; want 2", n, err)
	}
	if revs, _ := store.SessionRevocationsSince(ctx, 0, t0); len(revs) != 1 || revs[0].SessionID != ids[2] {
		t.Fatalf("after prune: %+v; want only %s", revs, ids[2])
	}
}

func TestDB_SessionRevokeIsAnnounced(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	a, b, c := newSession(t, store, u.ID, t0), newSession(t, store, u.ID, t0), newSession(t, store, u.ID, t0)
	deny := t0.Add(time.Hour)
	rec := listenTo(t, store, db.ChannelSessions)
	revoke := func(id string) {
		t.Helper()
		if _, err := store.SessionRevoke(ctx, id, t0, issue.ReasonLogout, deny); err != nil {
			t.Fatal(err)
		}
	}

	revoke(a.ID)
	if got := rec.next(t); got != a.ID {
		t.Fatalf("announcement = %q; want %q", got, a.ID)
	}
	// A change that changes nothing is not announced: announcements of one
	// connection arrive in commit order, so the next one must be b's.
	revoke(a.ID)
	revoke(b.ID)
	if got := rec.next(t); got != b.ID {
		t.Fatalf("announcement after revoking %s again, then %s = %q; want %q (the repeat announced)", a.ID, b.ID, got, b.ID)
	}
	if ids, err := store.SessionRevokeAllForUser(ctx, u.ID, t0, issue.ReasonUserDisabled, deny); err != nil || len(ids) != 1 {
		t.Fatalf("SessionRevokeAllForUser = %v, %v; want only %s", ids, err, c.ID)
	}
	if got := rec.next(t); got != c.ID {
		t.Fatalf("announcement = %q; want %q", got, c.ID)
	}
	store.SessionRevokeAllForUser(ctx, u.ID, t0, issue.ReasonUserDisabled, deny) // none left to end
	d := newSession(t, store, u.ID, t0)
	revoke(d.ID)
	if got := rec.next(t); got != d.ID {
		t.Fatalf("announcement after a SessionRevokeAllForUser that ended nothing, then revoking %s = %q; want %q", d.ID, got, d.ID)
	}
}

func TestDB_RefreshToken(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	s := newSession(t, store, u.ID, t0)
	rt := issue.RefreshToken{LookupID: "lk1", SessionID: s.ID, SecretMAC: []byte("mac"), MACVersion: 2, CreatedAt: t0}
	if err := store.RefreshTokenInsert(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if err := store.RefreshTokenInsert(ctx, rt); !errors.Is(err, issue.ErrConflict) {
		t.Errorf("second RefreshTokenInsert err = %v; want ErrConflict", err)
	}
	orphan := rt
	orphan.LookupID, orphan.SessionID = "lk2", "ses_nope"
	if err := store.RefreshTokenInsert(ctx, orphan); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("RefreshTokenInsert(unknown session) err = %v; want ErrNotFound", err)
	}
	first, second := t0.Add(time.Minute), t0.Add(2*time.Minute)
	err := store.InTx(ctx, func(tx issue.Store) error {
		got, err := tx.RefreshTokenByLookupIDForUpdate(ctx, "lk1")
		if err != nil {
			return err
		}
		if got.SessionID != s.ID || string(got.SecretMAC) != "mac" || got.MACVersion != 2 || got.UsedAt != nil {
			t.Errorf("RefreshTokenByLookupIDForUpdate = %+v; want %+v", got, rt)
		}
		return tx.RefreshTokenMarkUsed(ctx, "lk1", first)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RefreshTokenMarkUsed(ctx, "lk1", second); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.RefreshTokenByLookupIDForUpdate(ctx, "lk1"); got.UsedAt == nil || !got.UsedAt.Equal(first) {
		t.Fatalf("used_at = %v; want the first use, %v", got.UsedAt, first)
	}
	if err := store.RefreshTokenMarkUsed(ctx, "nope", first); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("RefreshTokenMarkUsed(unknown) err = %v; want ErrNotFound", err)
	}
	if _, err := store.RefreshTokenByLookupIDForUpdate(ctx, "nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("RefreshTokenByLookupIDForUpdate(unknown) err = %v; want ErrNotFound", err)
	}
}

// announcements is a db.Listener that hands each announcement to the test, in
// the order they arrived, so a test waits for the next one instead of sleeping.
type announcements struct {
	payloads chan string
	resyncs  chan struct{}
}

func (a *announcements) Changed(p string) { a.payloads <- p }
func (a *announcements) Resync()          { a.resyncs <- struct{}{} }

// listenTo listens on channel until the test ends, and returns once LISTEN has
// taken effect: every change committed from then on is announced to it.
func listenTo(t *testing.T, store *db.DB, channel string) *announcements {
	t.Helper()
	a := &announcements{payloads: make(chan string, 100), resyncs: make(chan struct{}, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); store.Listen(ctx, channel, a, discard()) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-a.resyncs:
	case <-time.After(5 * time.Second):
		t.Fatalf("LISTEN %s did not take effect within 5s", channel)
	}
	return a
}

// next returns the next announcement, failing the test if none comes within 5s.
func (a *announcements) next(t *testing.T) string {
	t.Helper()
	select {
	case p := <-a.payloads:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no announcement within 5s")
		return ""
	}
}

// expect fails the test unless the next announcements are want, in order.
func (a *announcements) expect(t *testing.T, want ...string) {
	t.Helper()
	for i, w := range want {
		if got := a.next(t); got != w {
			t.Fatalf("announcement %d = %q; want %q (all wanted: %v)", i+1, got, w, want)
		}
	}
}
