package latchkey

import "context"

// contextKey is unexported so that no other package can collide with these keys.
type contextKey int

// NewContextWithActor returns a context acting as the owner under the given name: the
// local command line on its own data directory ("cli:ana"), or Latchkey's own work
// ("system"). Requests from the network carry a signed-in Principal instead.
func NewContextWithActor(ctx context.Context, actor string) context.Context {
	return NewContextWithPrincipal(ctx, Principal{Name: actor, Role: UserOwner})
}

// ActorFromContext returns the name of who is acting, or "unknown".
func ActorFromContext(ctx context.Context) string {
	if p, ok := PrincipalFromContext(ctx); ok && p.Name != "" {
		return p.Name
	}
	return "unknown"
}
