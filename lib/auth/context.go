package auth

import "context"

// userKey is unexported so that only this package can store or read the
// user in a context.
type userKey struct{}

// WithUser returns a copy of ctx carrying u, for handlers behind the
// authentication step.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored by WithUser; ok is false when there is
// none, which a handler should treat as unauthenticated.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}
