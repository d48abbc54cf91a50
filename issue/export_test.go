package issue

// HoldHashSlots takes every password-hashing slot until release is called, so
// a test can see what a full server answers.
func (s *Service) HoldHashSlots() (release func()) {
	for range cap(s.hashes.slots) {
		s.hashes.slots <- struct{}{}
	}
	return func() {
		for range cap(s.hashes.slots) {
			<-s.hashes.slots
		}
	}
}
