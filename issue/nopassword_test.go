package issue

import "testing"

// TestHasPassword: an unusable hash (a user a provider created) is told from
// a password someone chose, and no password matches it.
func TestHasPassword(t *testing.T) {
	none := unusablePasswordHash()
	if hasPassword(none) {
		t.Errorf("hasPassword(%q) = true for an unusable hash", none)
	}
	if CheckPassword(none, "") {
		t.Error("the empty password matches an unusable hash")
	}
	chosen, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{chosen, DummyHash, "not a PHC string"} {
		if !hasPassword(h) {
			t.Errorf("hasPassword(%q) = false", h)
		}
	}
}
