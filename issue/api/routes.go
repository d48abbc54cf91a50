package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
)

// access is who a route admits before its handler runs. What a route may
// change is decided by the Service's authority rule, whatever the route says.
type access int

const (
	open    access = iota // anybody; no credential is read (login, refresh, the public signing keys)
	anybody               // anybody; a credential sent along must be good (registration)
	user                  // a user's access token (a JWT with a session)
	perm                  // an API key or a user's access token holding route.perm
)

// route is one row of the route table.
type route struct {
	method, path string
	access       access
	perm         string // for access perm
	handle       func(*API, echo.Context) error
}

// routes is the management API: every route, who it admits, and its handler.
// TestAPI_AuthorityMatrix walks what Register makes of it.
func routes() []route {
	const get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	return []route{
		{post, "/v1/keys", perm, issue.PermKeysWrite, (*API).createKey},
		{get, "/v1/keys", perm, issue.PermKeysRead, (*API).listKeys},
		{get, "/v1/keys/:id", perm, issue.PermKeysRead, (*API).getKey},
		{get, "/v1/keys/:id/usage", perm, issue.PermKeysRead, (*API).keyUsage},
		{post, "/v1/keys/:id/rotate", perm, issue.PermKeysWrite, (*API).rotateKey},
		{post, "/v1/keys/:id/revoke", perm, issue.PermKeysWrite, (*API).revokeKey},
		{post, "/v1/keys/:id/disable", perm, issue.PermKeysWrite, (*API).disableKey},
		{post, "/v1/keys/:id/enable", perm, issue.PermKeysWrite, (*API).enableKey},
		{put, "/v1/keys/:id/rate-limit", perm, issue.PermKeysWrite, (*API).setKeyRateLimit},
		{del, "/v1/keys/:id/rate-limit", perm, issue.PermKeysWrite, (*API).clearKeyRateLimit},

		{get, "/.well-known/jwks.json", open, "", (*API).jwks},
		// The OpenAPI document of these routes, and a page for people made from it.
		{get, "/openapi.json", open, "", (*API).openAPI},
		{get, "/docs", open, "", (*API).docs},
		{post, "/v1/signing-keys/rotate", perm, issue.PermSigningKeysWrite, (*API).rotateSigningKey},

		{get, "/v1/audit", perm, issue.PermAuditRead, (*API).listAudit},

		{post, "/v1/users", perm, issue.PermUsersWrite, (*API).createUser},
		{get, "/v1/users", perm, issue.PermUsersRead, (*API).listUsers},
		{get, "/v1/users/:id", perm, issue.PermUsersRead, (*API).getUser},
		{patch, "/v1/users/:id", perm, issue.PermUsersWrite, (*API).updateUser},
		{post, "/v1/users/:id/disable", perm, issue.PermUsersWrite, (*API).disableUser},
		{post, "/v1/users/:id/enable", perm, issue.PermUsersWrite, (*API).enableUser},
		{del, "/v1/users/:id", perm, issue.PermUsersWrite, (*API).deleteUser},
		{get, "/v1/users/:id/permissions", perm, issue.PermUsersRead, (*API).userPermissions},
		{get, "/v1/users/:id/roles", perm, issue.PermUsersRead, (*API).userRoles},
		{put, "/v1/users/:id/roles/:role", perm, issue.PermUsersWrite, (*API).assignRole},
		{del, "/v1/users/:id/roles/:role", perm, issue.PermUsersWrite, (*API).unassignRole},

		{get, "/v1/roles", perm, issue.PermRolesRead, (*API).listRoles},
		{post, "/v1/roles", perm, issue.PermRolesWrite, (*API).createRole},
		{del, "/v1/roles/:name", perm, issue.PermRolesWrite, (*API).deleteRole},
		{put, "/v1/roles/:name/permissions/:perm", perm, issue.PermRolesWrite, (*API).grantPermission},
		{del, "/v1/roles/:name/permissions/:perm", perm, issue.PermRolesWrite, (*API).revokePermission},
		{get, "/v1/permissions", perm, issue.PermRolesRead, (*API).listPermissions},
		{post, "/v1/permissions", perm, issue.PermRolesWrite, (*API).createPermission},
		{del, "/v1/permissions/:name", perm, issue.PermRolesWrite, (*API).deletePermission},

		{post, "/v1/auth/register", anybody, "", (*API).register}, // refused unless Options.AllowRegistration
		// Login and refresh read no credential: a stale access token a client
		// sends along must not stop it from getting a new one.
		{post, "/v1/auth/login", open, "", (*API).login},
		{post, "/v1/auth/refresh", open, "", (*API).refresh},
		// A native app's ID token from a configured provider (SetExternal).
		{post, "/v1/auth/oauth/login", open, "", (*API).oauthLogin},
		{post, "/v1/auth/logout", user, "", (*API).logout},
		{get, "/v1/me", user, "", (*API).me},

		{get, "/v1/me/sessions", user, "", (*API).mySessions},
		{del, "/v1/me/sessions/:id", user, "", (*API).endMySession},
		{get, "/v1/users/:id/sessions", perm, issue.PermUsersRead, (*API).userSessions},
		{del, "/v1/users/:id/sessions", perm, issue.PermSessionsWrite, (*API).revokeUserSessions},

		// Identities linked by signing in with an external provider (the portal's /sso).
		{get, "/v1/me/identities", user, "", (*API).myIdentities},
		{del, "/v1/me/identities", user, "", (*API).unlinkMyIdentity},
		{get, "/v1/users/:id/identities", perm, issue.PermUsersRead, (*API).userIdentities},
		{del, "/v1/users/:id/identities", perm, issue.PermUsersWrite, (*API).unlinkUserIdentity},

		{post, "/v1/me/tokens", user, "", (*API).createMyToken},
		{get, "/v1/me/tokens", user, "", (*API).myTokens},
		{del, "/v1/me/tokens/:id", user, "", (*API).revokeMyToken},
		{put, "/v1/me/tokens/:id/rate-limit", user, "", (*API).setMyTokenRateLimit},
		{del, "/v1/me/tokens/:id/rate-limit", user, "", (*API).clearMyTokenRateLimit},
		{get, "/v1/me/tokens/:id/usage", user, "", (*API).myTokenUsage},
		{get, "/v1/users/:id/tokens", perm, issue.PermUsersRead, (*API).userTokens},
		{get, "/v1/users/:id/tokens/:tid/usage", perm, issue.PermUsersRead, (*API).userTokenUsage},
		{del, "/v1/users/:id/tokens/:tid", perm, issue.PermUsersWrite, (*API).revokeUserToken},
		{del, "/v1/users/:id/credentials", perm, issue.PermUsersWrite, (*API).revokeUserCredentials},
		{del, "/v1/me/credentials", user, "", (*API).revokeMyCredentials},
	}
}
