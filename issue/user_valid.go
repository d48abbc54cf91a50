package issue

import (
	"fmt"
	"net/mail"
	"slices"
	"unicode"
	"unicode/utf8"
)

func (s *Service) validNewUser(in *UserRequest) error {
	if err := validUsername(in.Username); err != nil {
		return err
	}
	if err := validEmail(in.Email); err != nil {
		return err
	}
	if err := validFullName(in.FullName); err != nil {
		return err
	}
	if err := validPassword(in.Password, s.opts.PasswordMinLen); err != nil {
		return err
	}
	if len(in.Roles) > MaxUserRoles {
		return invalid("roles", fmt.Sprintf("must hold at most %d roles", MaxUserRoles))
	}
	for _, r := range in.Roles {
		if !roleName.MatchString(r) {
			return invalid("roles", fmt.Sprintf("unknown role %q", truncate(r, 64)))
		}
	}
	in.Roles = slices.Compact(slices.Sorted(slices.Values(in.Roles)))
	if in.Roles == nil {
		in.Roles = []string{}
	}
	return nil
}

func validUsername(name string) error {
	if name == "" || len(name) > MaxUsernameLen {
		return invalid("username", fmt.Sprintf("must be 1 to %d characters", MaxUsernameLen))
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && (r == '.' || r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return invalid("username", "may hold only letters, digits and . _ -")
		}
	}
	return nil
}

func validEmail(email string) error {
	if email == "" {
		return invalid("email", "is required")
	}
	if len(email) > MaxEmailLen {
		return invalid("email", fmt.Sprintf("must be at most %d characters", MaxEmailLen))
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return invalid("email", "must be a plain address such as ada@example.com")
	}
	if !printable(email) { // it reaches upstreams as X-Auth-Email: it must read as it is
		return invalid("email", "must be printable text, without control, formatting or invisible characters")
	}
	return nil
}

func validFullName(name string) error {
	if !utf8.ValidString(name) {
		return invalid("full_name", "must be UTF-8 text")
	}
	if utf8.RuneCountInString(name) > MaxFullNameLen {
		return invalid("full_name", fmt.Sprintf("must be at most %d characters", MaxFullNameLen))
	}
	for _, r := range name {
		if !unicode.IsGraphic(r) {
			return invalid("full_name", "must hold only printable characters")
		}
	}
	return nil
}
