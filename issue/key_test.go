package issue_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestService_CreateKey(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	exp := t0.Add(24 * time.Hour)
	k, err := b.svc.CreateKey(ctx, issue.KeyRequest{Name: "Front door camera", Scopes: []string{"events:read", "cameras:stream", "events:read"},
		ExpiresAt: &exp, Metadata: json.RawMessage(`{"room":"hall"}`)}, issue.Actor{ID: "key:admin", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Secret, "agk_"+k.Prefix[4:]) || len(k.Secret) != verify.KeyLen {
		t.Fatalf("secret %q does not carry prefix %q", k.Secret, k.Prefix)
	}
	if want := []string{"cameras:stream", "events:read"}; !slices.Equal(k.Scopes, want) {
		t.Errorf("scopes = %v; want %v (sorted, without duplicates)", k.Scopes, want)
	}
	if k.Subject != k.ID || k.CreatedBy != "key:admin" || k.State != issue.StateActive || !k.CreatedAt.Equal(t0) {
		t.Errorf("created key = %+v", k.Key)
	}
	p, err := b.verifier(t).Authenticate(ctx, k.Secret)
	if err != nil || p.KeyID != k.ID || !p.HasScope("cameras:stream") {
		t.Fatalf("the new key does not verify: %v, %v", p, err)
	}
}

func TestService_CreateKeyRejectsBadInput(t *testing.T) {
	past := t0.Add(-time.Second)
	tests := []struct {
		name  string
		in    issue.KeyRequest
		field string
	}{
		{"EmptyName", issue.KeyRequest{Name: ""}, "name"},
		{"BlankName", issue.KeyRequest{Name: "   "}, "name"},
		{"LongName", issue.KeyRequest{Name: strings.Repeat("é", issue.MaxNameLen+1)}, "name"},
		{"ControlInName", issue.KeyRequest{Name: "a\nb"}, "name"},
		{"BidiOverrideInName", issue.KeyRequest{Name: "cam\u202egnp.exe"}, "name"},
		{"ZeroWidthInName", issue.KeyRequest{Name: "ca\u200bm"}, "name"},
		{"InvalidUTF8Name", issue.KeyRequest{Name: "a\xffb"}, "name"},
		{"BadScope", issue.KeyRequest{Name: "a", Scopes: []string{"events read"}}, "scopes"},
		{"EmptyScope", issue.KeyRequest{Name: "a", Scopes: []string{""}}, "scopes"},
		{"TooManyScopes", issue.KeyRequest{Name: "a", Scopes: make([]string, issue.MaxScopes+1)}, "scopes"},
		{"PastExpiry", issue.KeyRequest{Name: "a", ExpiresAt: &past}, "expires_at"},
		{"ExpiryNow", issue.KeyRequest{Name: "a", ExpiresAt: &t0}, "expires_at"},
		{"MetadataArray", issue.KeyRequest{Name: "a", Metadata: json.RawMessage(`[1]`)}, "metadata"},
		{"MetadataTooLarge", issue.KeyRequest{Name: "a", Metadata: json.RawMessage(`{"x":"` + strings.Repeat("a", issue.MaxMetadataLen) + `"}`)}, "metadata"},
	}
	b := setup(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateKey(ctx, tt.in, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
			var fe *issue.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v; want a FieldError on %s", err, tt.field)
			}
		})
	}
	if n, _ := b.svc.CountKeys(ctx); n != 0 {
		t.Fatalf("%d keys stored after only bad requests; want 0", n)
	}
}

func TestService_RotateKey(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	exp := t0.Add(48 * time.Hour)
	old := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "ci", Scopes: []string{"deploy:write"}, ExpiresAt: &exp,
		Metadata: json.RawMessage(`{"repo":"x"}`)}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	v := b.verifier(t)

	b.now = t0.Add(time.Hour)
	nk, err := b.svc.RotateKey(ctx, old.ID, 10*time.Minute, issue.Actor{ID: "key:admin", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	if nk.ID == old.ID || nk.Secret == old.Secret || nk.Subject != old.Subject || nk.Name != old.Name ||
		!slices.Equal(nk.Scopes, old.Scopes) || !nk.ExpiresAt.Equal(exp) || *nk.RotatedFrom != old.ID {
		t.Fatalf("rotated key = %+v; want a new secret with the old subject, name, scopes, expiry", nk.Key)
	}
	after := must(b.svc.Key(ctx, old.ID))(t)
	if want := b.now.Add(10 * time.Minute); !after.ExpiresAt.Equal(want) {
		t.Fatalf("old key expires at %v; want %v (now + grace)", after.ExpiresAt, want)
	}
	// Both work during the grace period, only the new one after it.
	v.ForgetAll()
	for _, cred := range []string{old.Secret, nk.Secret} {
		if _, err := v.Authenticate(ctx, cred); err != nil {
			t.Fatalf("during grace: %v", err)
		}
	}
	b.now = b.now.Add(10 * time.Minute)
	if _, err := v.Authenticate(ctx, old.Secret); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("old key after grace: err = %v; want ErrExpired", err)
	}
	if _, err := v.Authenticate(ctx, nk.Secret); err != nil {
		t.Fatalf("new key after grace: %v", err)
	}
}

func TestService_RotateKeyNeverExtendsExpiry(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	exp := t0.Add(time.Minute)
	forever := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "no expiry"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	short := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "short", ExpiresAt: &exp}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	if _, err := b.svc.RotateKey(ctx, short.ID, 24*time.Hour, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	got := must(b.svc.Key(ctx, short.ID))(t)
	if !got.ExpiresAt.Equal(exp) {
		t.Fatalf("old key expires at %v after a 24h grace; want its own earlier expiry %v", got.ExpiresAt, exp)
	}
	if _, err := b.svc.RotateKey(ctx, forever.ID, 0, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	got, _ = b.svc.Key(ctx, forever.ID)
	if got.State != issue.StateExpired {
		t.Fatalf("old key after a zero-grace rotation is %s; want expired", got.State)
	}
}

func TestService_RotateKeyRefusals(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	mk := func() issue.IssuedKey {
		k := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "k"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
		return k
	}
	revoked, disabled, expired := mk(), mk(), mk()
	must(b.svc.RevokeKey(ctx, revoked.ID, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	must(b.svc.SetKeyDisabled(ctx, disabled.ID, true, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	b.svc.RotateKey(ctx, expired.ID, 0, issue.Actor{ID: "test", Authority: issue.AllAuthority()}) // leaves it expired
	before := must(b.svc.CountKeys(ctx))(t)
	for name, id := range map[string]string{"Revoked": revoked.ID, "Disabled": disabled.ID, "Expired": expired.ID} {
		t.Run(name, func(t *testing.T) {
			if _, err := b.svc.RotateKey(ctx, id, time.Minute, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); !errors.Is(err, issue.ErrConflict) {
				t.Fatalf("err = %v; want ErrConflict", err)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		if _, err := b.svc.RotateKey(ctx, "key_nope", time.Minute, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("err = %v; want ErrNotFound", err)
		}
	})
	t.Run("GraceOutOfRange", func(t *testing.T) {
		k := mk()
		before++
		for _, g := range []time.Duration{-time.Second, issue.MaxGrace + time.Second} {
			if _, err := b.svc.RotateKey(ctx, k.ID, g, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); !errors.Is(err, issue.ErrInvalid) {
				t.Fatalf("grace %v: err = %v; want ErrInvalid", g, err)
			}
		}
	})
	if after, _ := b.svc.CountKeys(ctx); after != before {
		t.Fatalf("refused rotations stored %d keys", after-before)
	}
}

func TestService_DisableEnableRevoke(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	k := must(b.svc.CreateKey(ctx, issue.KeyRequest{Name: "k"}, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	v := b.verifier(t)
	check := func(want error) {
		t.Helper()
		v.ForgetAll()
		if _, err := v.Authenticate(ctx, k.Secret); !errors.Is(err, want) {
			t.Fatalf("Authenticate err = %v; want %v", err, want)
		}
	}
	steps := []struct {
		do    func() (issue.Key, error)
		state issue.State
		err   error
	}{
		{func() (issue.Key, error) {
			return b.svc.SetKeyDisabled(ctx, k.ID, true, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
		}, issue.StateDisabled, verify.ErrDisabled},
		{func() (issue.Key, error) {
			return b.svc.SetKeyDisabled(ctx, k.ID, true, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
		}, issue.StateDisabled, verify.ErrDisabled},
		{func() (issue.Key, error) {
			return b.svc.SetKeyDisabled(ctx, k.ID, false, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
		}, issue.StateActive, nil},
		{func() (issue.Key, error) {
			return b.svc.RevokeKey(ctx, k.ID, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
		}, issue.StateRevoked, verify.ErrRevoked},
		{func() (issue.Key, error) {
			return b.svc.RevokeKey(ctx, k.ID, issue.Actor{ID: "test", Authority: issue.AllAuthority()})
		}, issue.StateRevoked, verify.ErrRevoked},
	}
	for i, s := range steps {
		got, err := s.do()
		if err != nil || got.State != s.state {
			t.Fatalf("step %d: %s, %v; want %s", i, got.State, err, s.state)
		}
		check(s.err)
	}
	if _, err := b.svc.SetKeyDisabled(ctx, k.ID, false, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); !errors.Is(err, issue.ErrConflict) {
		t.Fatalf("enabling a revoked key: err = %v; want ErrConflict", err)
	}
	check(verify.ErrRevoked)
}
