package issue

import (
	"context"
	"fmt"
	"strings"
)

// Legacy reports, one sentence each, the rows that an earlier version allowed
// and the authority rules now refuse: permissions outside the one alphabet or
// in ReservedNamespace (left out of every token), a catalogue over
// MaxCatalogueLen, personal tokens carrying authgate's own permissions (which
// do not count when the token is used). Nothing is rewritten: each sentence
// says what the operator can do. authgate serve logs them at start and
// authgate migrate prints them.
func (s *Service) Legacy(ctx context.Context) ([]string, error) {
	var out []string
	perms, err := s.store.PermissionList(ctx)
	if err != nil {
		return nil, fmt.Errorf("check permissions: %w", err)
	}
	for _, p := range perms {
		if err := validPermission("", p.Name); err != nil {
			out = append(out, fmt.Sprintf("permission %q is refused on use (%s); it is left out of every access token: "+
				"delete it (DELETE /v1/permissions/{name}) and create a valid one", p.Name, strings.TrimPrefix(err.Error(), ": ")))
		}
	}
	if n := catalogueLen(perms); n > MaxCatalogueLen {
		out = append(out, fmt.Sprintf("the permission catalogue takes %d bytes, over the bound of %d: an admin's access token "+
			"may grow past what the verifier accepts, and login then fails; delete unused permissions", n, MaxCatalogueLen))
	}
	own := append([]string{ScopeAdmin}, ownPermissions...)
	tokens, err := s.store.PersonalTokenListCarrying(ctx, own)
	if err != nil {
		return nil, fmt.Errorf("check personal tokens: %w", err)
	}
	for _, t := range tokens {
		var carried []string
		for _, sc := range t.Scopes {
			if OwnPermission(sc) {
				carried = append(carried, sc)
			}
		}
		out = append(out, fmt.Sprintf("personal token %s (%s, user %s) carries authgate's own permission(s) %s, which do not "+
			"count when it is used: revoke it (DELETE /v1/users/%s/tokens/%s) and make one without them",
			t.ID, t.Name, t.UserID, strings.Join(carried, " "), t.UserID, t.ID))
	}
	return out, nil
}
