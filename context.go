package latchkey

import "context"

// contextKey is unexported so that no other package can collide with these keys.
type contextKey int

const actorKey contextKey = iota

// NewContextWithActor returns a context carrying who is acting: a user's name, "cli" for
// the local command line, or "system" for Latchkey's own work.
func NewContextWithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// ActorFromContext returns the acting principal, or "unknown".
func ActorFromContext(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey).(string); ok && a != "" {
		return a
	}
	return "unknown"
}
