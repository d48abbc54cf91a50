package issue

import "time"

// Session is one login. Its refresh tokens rotate on every use and form one
// family: presenting a used one after the grace revokes the session.
type Session struct {
	ID            string     `json:"id"` // ses_…
	UserID        string     `json:"user_id"`
	CreatedAt     time.Time  `json:"created_at"`
	RefreshedAt   time.Time  `json:"refreshed_at"`
	IdleExpiresAt time.Time  `json:"idle_expires_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
	RevokeReason  *string    `json:"revoke_reason"`
	IP            string     `json:"ip"`
	UserAgent     string     `json:"user_agent"`
}

// Reasons a session ends early, stored in Session.RevokeReason.
const (
	ReasonLogout       = "logout"
	ReasonRevoked      = "revoked"
	ReasonEvicted      = "evicted"
	ReasonReuse        = "reuse"
	ReasonUserDisabled = "user_disabled"
	ReasonUserDeleted  = "user_deleted"
)

// RefreshToken is the stored form of a refresh token (agr_…): its lookup id and
// the HMAC of its secret.
type RefreshToken struct {
	LookupID   string
	SessionID  string
	SecretMAC  []byte
	MACVersion int16
	CreatedAt  time.Time
	UsedAt     *time.Time
}
