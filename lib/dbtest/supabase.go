package dbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/migrate"
)

// SupabaseRoles are the roles Supabase's Data API acts as.
var SupabaseRoles = []string{"anon", "authenticated", "service_role"}

// supabaseRolesLockKey serializes CREATE ROLE across parallel tests and test
// binaries: roles are cluster-wide, and two "create if missing" runs racing
// each other would both try to create.
const supabaseRolesLockKey = int64(0x63687477_726f6c) // "chtw" "rol"

// supabaseShape is what a Supabase project has in a database before chatwire
// arrives: auth.uid() reading the Data API's JWT claims, the API roles' usage
// of the schemas, and the default privileges that grant them ALL on every
// table, sequence and function created in public later.
const supabaseShape = `
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
GRANT USAGE ON SCHEMA public, auth TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
`

// NewSupabaseDatabase creates a database shaped like a Supabase project's
// (roles anon, authenticated and service_role, auth.uid(), Supabase's default
// privileges) and applies the migrations up to version, or all of them when
// version is negative. It returns the owner's URL; the database is dropped
// when the test ends. Act as the Data API does with AsDataAPI.
func NewSupabaseDatabase(tb testing.TB, version int32) string {
	tb.Helper()
	dbURL := NewEmptyDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatalf("dbtest: supabase: %v", err)
	}
	defer closeConn(ctx, conn)
	if err := createSupabaseRoles(ctx, conn); err != nil {
		tb.Fatalf("dbtest: supabase roles: %v", err)
	}
	if _, err := conn.Exec(ctx, supabaseShape); err != nil {
		tb.Fatalf("dbtest: supabase shape: %v", err)
	}
	if version < 0 {
		err = migrate.Up(ctx, dbURL)
	} else {
		err = migrate.To(ctx, dbURL, version)
	}
	if err != nil {
		tb.Fatalf("dbtest: supabase: %v", err)
	}
	return dbURL
}

// createSupabaseRoles creates the roles that do not exist yet, holding a
// transaction-level advisory lock so concurrent callers take turns.
func createSupabaseRoles(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", supabaseRolesLockKey); err != nil {
			return err
		}
		for _, role := range SupabaseRoles {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			if _, err := tx.Exec(ctx, "CREATE ROLE "+ident(role)+" NOLOGIN NOINHERIT"); err != nil {
				return fmt.Errorf("create role %s: %w", role, err)
			}
		}
		return nil
	})
}

// AsDataAPI runs f in one transaction acting exactly as Supabase's Data API
// (PostgREST) does for a request: SET LOCAL ROLE to role, and the verified
// JWT's claims in request.jwt.claims, transaction-local. sub "" sends claims
// without a subject, as for the anon key. The transaction commits when f
// returns nil.
func AsDataAPI(ctx context.Context, conn *pgx.Conn, role, sub string, f func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+ident(role)); err != nil {
			return err
		}
		claims := map[string]any{"role": role}
		if sub != "" {
			claims["sub"] = sub
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('request.jwt.claims', $1::jsonb::text, true)", claims); err != nil {
			return err
		}
		return f(tx)
	})
}
