package issue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
)

func TestHashPassword_Format(t *testing.T) {
	h1, err := issue.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h2 := must(issue.HashPassword("correct horse battery staple"))(t)
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(h1, prefix) {
		t.Fatalf("hash %q; want the PHC prefix %q", h1, prefix)
	}
	// 16-byte salt and 32-byte key in unpadded base64: 22 and 43 characters.
	parts := strings.Split(strings.TrimPrefix(h1, prefix), "$")
	if len(parts) != 2 || len(parts[0]) != 22 || len(parts[1]) != 43 {
		t.Fatalf("salt and hash %q; want 22 and 43 base64 characters", parts)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal; want a fresh salt each time")
	}
	if !strings.HasPrefix(issue.DummyHash, prefix) {
		t.Fatalf("DummyHash %q is not made with the current parameters %q: regenerate it", issue.DummyHash, prefix)
	}
}

func TestCheckPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	hash := must(issue.HashPassword(pw))(t)
	unicodeHash := must(issue.HashPassword("pässwörd ✓ 密码"))(t)
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"Correct", hash, pw, true},
		{"Wrong", hash, pw + "!", false},
		{"Empty", hash, "", false},
		{"CaseMatters", hash, strings.ToUpper(pw), false},
		{"Unicode", unicodeHash, "pässwörd ✓ 密码", true},
		{"DummyHash", issue.DummyHash, pw, false},
		{"TooLong", hash, strings.Repeat("a", issue.MaxPasswordLen+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := issue.CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Fatalf("CheckPassword = %t; want %t", got, tt.want)
			}
		})
	}
}

// tamperedHashes are hashes of pw changed in one place each; none may match.
func tamperedHashes(t testing.TB, pw string) map[string]string {
	hash, err := issue.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(hash, "$")
	salt := hash[strings.LastIndex(hash[:i], "$")+1 : i]
	flip := func(s string) string { // change the first base64 character
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	return map[string]string{
		"FlippedHash":     hash[:i+1] + flip(hash[i+1:]),
		"FlippedSalt":     strings.Replace(hash, salt, flip(salt), 1),
		"Argon2i":         strings.Replace(hash, "$argon2id$", "$argon2i$", 1),
		"Bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"Version16":       strings.Replace(hash, "v=19", "v=16", 1),
		"OtherMemory":     strings.Replace(hash, "m=19456", "m=19455", 1),
		"OtherTime":       strings.Replace(hash, "t=2", "t=1", 1),
		"HugeMemory":      strings.Replace(hash, "m=19456", "m=4194304", 1),
		"HugeTime":        strings.Replace(hash, "t=2", "t=1000000", 1),
		"ZeroTime":        strings.Replace(hash, "t=2", "t=0", 1),
		"ManyThreads":     strings.Replace(hash, "p=1", "p=255", 1),
		"ZeroThreads":     strings.Replace(hash, "p=1", "p=0", 1),
		"LeadingZero":     strings.Replace(hash, "t=2", "t=02", 1),
		"ParamsReordered": strings.Replace(hash, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1),
		"MissingParam":    strings.Replace(hash, "m=19456,t=2,p=1", "m=19456,t=2", 1),
		"ShortKey":        hash[:i+1] + hash[i+1:i+11],
		"ShortSalt":       strings.Replace(hash, salt, salt[:8], 1),
		"PaddedBase64":    hash + "=",
		"NotBase64":       hash[:i+1] + "!!!!" + hash[i+5:],
		"ExtraSegment":    hash + "$x",
		"NoLeadingDollar": hash[1:],
		"Empty":           "",
		"Garbage":         "not a hash",
	}
}

func TestCheckPassword_RefusesTamperedHashes(t *testing.T) {
	const pw = "correct horse battery staple"
	for name, hash := range tamperedHashes(t, pw) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			if issue.CheckPassword(hash, pw) {
				t.Fatalf("CheckPassword(%q) matched; want a tampered hash to match nothing", hash)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("CheckPassword took %v; want parameters out of bounds refused before hashing", d)
			}
		})
	}
}

func FuzzCheckPassword(f *testing.F) {
	const pw = "correct horse battery staple"
	for _, h := range tamperedHashes(f, pw) {
		f.Add(h, pw)
	}
	f.Add(issue.DummyHash, "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		_ = issue.CheckPassword(hash, pw) // must neither panic nor run away
	})
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := issue.HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
}
