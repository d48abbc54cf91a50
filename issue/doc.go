// Package issue is authgate's issuer: the rules for minting, rotating and
// revoking API keys, personal tokens, access tokens and signing keys; users,
// roles, permissions, logins and sessions; the audit log they write; and the
// management REST API under /v1 that exposes them (API, Register).
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
//
// The management API admits API keys (their scopes) and users' access tokens
// (what their roles give them at the time of the request, CallerAuthority);
// personal tokens and static keys are refused (ErrNotForManagement). The
// command line acts as CLI, holding every permission: it needs the database
// and the server secret anyway. Legacy reports the rows that an earlier
// version allowed and these rules refuse; none is rewritten.
package issue
