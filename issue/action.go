package issue

// Action is what an audit row records. The list is closed: every row's action
// is one of the constants below, each with the type of resource it acts on
// (actionTable), and GET /v1/audit?action= refuses any other.
type Action string

// Audit actions, by noun.
const (
	ActionKeyCreate        Action = "key.create"
	ActionKeyRotate        Action = "key.rotate"
	ActionKeyRevoke        Action = "key.revoke"
	ActionKeyDisable       Action = "key.disable"
	ActionKeyEnable        Action = "key.enable"
	ActionKeyRateLimit     Action = "key.rate_limit"
	ActionUserCreate       Action = "user.create"
	ActionUserRegister     Action = "user.register"
	ActionUserUpdate       Action = "user.update"
	ActionUserDisable      Action = "user.disable"
	ActionUserEnable       Action = "user.enable"
	ActionUserDelete       Action = "user.delete"
	ActionUserLogin        Action = "user.login"
	ActionLoginFailed      Action = "user.login_failed"
	ActionPasswordChange   Action = "user.password_change"
	ActionRoleAssign       Action = "user.role_assign"
	ActionRoleUnassign     Action = "user.role_unassign"
	ActionRoleSync         Action = "user.role_sync" // a provider's group mapping gave or took a role at sign-in
	ActionIdentityLink     Action = "identity.link"
	ActionIdentityUnlink   Action = "identity.unlink"
	ActionRoleCreate       Action = "role.create"
	ActionRoleDelete       Action = "role.delete"
	ActionRoleGrant        Action = "role.grant"
	ActionRoleRevoke       Action = "role.revoke"
	ActionPermCreate       Action = "permission.create"
	ActionPermDelete       Action = "permission.delete"
	ActionSessionRenew     Action = "session.refresh"
	ActionSessionEnd       Action = "session.revoke"
	ActionTokenCreate      Action = "token.create"
	ActionTokenRevoke      Action = "token.revoke"
	ActionTokenRateLimit   Action = "token.rate_limit"
	ActionSigningKeyCreate Action = "signing_key.create"
	ActionSigningKeyRotate Action = "signing_key.rotate"
	ActionAuditPrune       Action = "audit.prune"
)

// actionTable is every Action with the resource_type of its rows.
var actionTable = [...]struct {
	action   Action
	resource string
}{
	{ActionKeyCreate, "key"}, {ActionKeyRotate, "key"}, {ActionKeyRevoke, "key"},
	{ActionKeyDisable, "key"}, {ActionKeyEnable, "key"}, {ActionKeyRateLimit, "key"},
	{ActionUserCreate, "user"}, {ActionUserRegister, "user"}, {ActionUserUpdate, "user"},
	{ActionUserDisable, "user"}, {ActionUserEnable, "user"}, {ActionUserDelete, "user"},
	{ActionUserLogin, "user"}, {ActionLoginFailed, "user"}, {ActionPasswordChange, "user"},
	{ActionRoleAssign, "user"}, {ActionRoleUnassign, "user"}, {ActionRoleSync, "user"},
	{ActionIdentityLink, "user"}, {ActionIdentityUnlink, "user"},
	{ActionRoleCreate, "role"}, {ActionRoleDelete, "role"}, {ActionRoleGrant, "role"}, {ActionRoleRevoke, "role"},
	{ActionPermCreate, "permission"}, {ActionPermDelete, "permission"},
	{ActionSessionRenew, "session"}, {ActionSessionEnd, "session"},
	{ActionTokenCreate, "token"}, {ActionTokenRevoke, "token"}, {ActionTokenRateLimit, "token"},
	{ActionSigningKeyCreate, "signing_key"}, {ActionSigningKeyRotate, "signing_key"},
	{ActionAuditPrune, "audit_log"},
}

// Actions returns every Action, in the order of the table above.
func Actions() []Action {
	out := make([]Action, len(actionTable))
	for i, row := range actionTable {
		out[i] = row.action
	}
	return out
}

// ResourceType is the resource_type of a's rows; "" for an Action not in the list.
func (a Action) ResourceType() string {
	for _, row := range actionTable {
		if row.action == a {
			return row.resource
		}
	}
	return ""
}

// Known reports whether a is one of Actions.
func (a Action) Known() bool { return a.ResourceType() != "" }
