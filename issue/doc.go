// Package issue is authgate's issuer: the rules for minting, rotating and
// revoking API keys, personal tokens, access tokens and signing keys; users,
// roles, permissions, logins and sessions; and the audit log they write. The
// management REST API under /v1 that exposes them is issue/api; the command
// line calls the Service directly.
//
// # Words
//
// Each word below means one thing throughout the package.
//
//   - API key: a credential for a machine (agk_…), owned by nobody; Key is
//     its row, KeyRequest what a caller asks for, IssuedKey the new key with
//     its secret shown once. Its scopes are its authority.
//   - personal token: a credential a user makes for a device or a script
//     (agp_…, PersonalToken), carrying some of the user's permissions, never
//     authgate's own; refused by the management API.
//   - access token: the short-lived JWT a login or a refresh answers with; its
//     holder acts as the user with the permissions their roles give now.
//   - refresh token: the one-use secret (agr_…) a session is continued with;
//     stored only as a MAC.
//   - signing key: a key that signs access tokens (SigningKey is its row,
//     SigningKeys the set in use, published as JWKS). Not an API key.
//   - static key: an API key from the environment rather than the database
//     (verify.StaticKey); refused by the management API.
//   - session: one login of a user until it is ended (logout, disable,
//     password change, revocation, eviction) or expires: an API session
//     (Login), continued by refresh tokens, or a browser session (SignIn),
//     known by its cookie (ags_…, stored only as a MAC). Both kinds count
//     towards MaxSessions together.
//   - permission: a named right, resource:action (keys:write, events:read).
//   - scope: a permission as a credential carries it; scopes and permissions
//     are compared as the same strings.
//   - role: a named set of permissions, assigned to users.
//   - authority: what a caller holds (Authority): an API key's scopes, or a
//     user's permissions; ScopeAdmin holds every permission.
//   - actor: who asks for a change, from where, holding what (Actor); every
//     audit row names one.
//   - external identity: a person as an OpenID provider knows them (issuer +
//     subject, ExternalIdentity), linked to one user (LinkedIdentity);
//     SignInExternal signs them in by its provider's ProviderPolicy.
//
// # Who may change what
//
// One rule decides every change of authority, in the Service, which every
// route and the command line pass through (authorize, with the caller's
// Authority carried in Actor):
//
//	A caller may create, copy, widen, grant, hand out, rotate into or act
//	upon authority only when it holds every permission involved.
//
// Scopes and permissions are compared as strings; ScopeAdmin holds them all
// and is given only by a holder of it. A refusal is a *PermissionError
// (ErrPermission, 403) naming the missing permission, and changes nothing.
// Per case:
//
//   - Creating or rotating a key: every scope of the key. A caller holding
//     keys:write and events:read may create a key with events:read, not one
//     with authgate:admin.
//   - Acting on a key (rotate, disable, enable, revoke): every scope of that
//     key. keys:write alone cannot rotate the admin key.
//   - Acting on a user (password, email, disable, enable, delete, assign or
//     remove a role, end sessions, revoke tokens or all credentials): every
//     permission the user holds now, ScopeAdmin for an admin. users:write
//     cannot reset an admin's password; a user acting on themself holds what
//     they hold.
//   - Handing out a role (creating a user with it, assigning it): every
//     permission of the role, ScopeAdmin for RoleAdmin.
//   - Granting or revoking a permission, deleting it, creating a role holding
//     it: that permission. Deleting a role: all of its permissions. No
//     permission can be created in ReservedNamespace.
//   - A personal token's scopes: held by its user and by the caller, and never
//     one of authgate's own permissions (OwnPermission).
//   - Unlinking an external identity: as acting on its user.
//
// The one sanctioned exception: SignInExternal gives and takes the roles a
// provider's group mapping names (ProviderPolicy.Roles) and gives a new user
// its DefaultRole without checking the person signing in, because the
// mapping is the operator's configuration, checked at start
// (CheckProviderPolicy); every such change is audited.
//
// The management API admits API keys (their scopes) and users' access tokens
// and browser sessions (what their roles give them at the time of the
// request, CallerAuthority); personal tokens and static keys are refused
// (ErrNotForManagement). The command line acts as CLI, holding every
// permission: it needs the database and the server secret anyway. Legacy
// reports the rows that an earlier version allowed and these rules refuse;
// none is rewritten.
package issue
