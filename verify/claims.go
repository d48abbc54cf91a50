package verify

import "github.com/golang-jwt/jwt/v5"

// TypAccessToken is the JOSE typ header of authgate's access tokens (RFC 9068).
const TypAccessToken = "at+jwt"

// AccessClaims are the claims of an access token authgate issues: iss, sub, aud,
// exp, iat, nbf and jti, plus the session, the scopes (space-separated, like
// OAuth's scope), and who the user is.
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Scope     string   `json:"scope"`
	Username  string   `json:"username"`
	Email     string   `json:"email,omitempty"`
	Roles     []string `json:"roles"`
	// DeviceID is the device name the session was started with (seed 000's
	// token structure), for applications that read tokens; the verifier
	// ignores it.
	DeviceID string `json:"device_id,omitempty"`
}
