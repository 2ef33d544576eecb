package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/store"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenIsLazyAndServerlessSized(t *testing.T) {
	addr := closedPort(t)
	pool, err := store.Open(context.Background(), "postgres://app:s3cr3t-pw@"+addr+"/chat?sslmode=disable")
	if err != nil {
		t.Fatalf("Open connected eagerly or failed: %v", err)
	}
	defer pool.Close()
	if got := pool.Stat().TotalConns(); got != 0 {
		t.Errorf("%d connections after Open, want 0", got)
	}
	cfg := pool.Config()
	if cfg.MaxConns != 2 || cfg.MinConns != 0 || cfg.MaxConnIdleTime != time.Minute || cfg.ConnConfig.ConnectTimeout != 5*time.Second {
		t.Errorf("max %d, min %d, idle %v, connect timeout %v", cfg.MaxConns, cfg.MinConns, cfg.MaxConnIdleTime, cfg.ConnConfig.ConnectTimeout)
	}

	// The first use fails, as unavailable, without the password.
	err = store.New(pool).Ping(context.Background())
	if err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if !store.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestOpenHonoursURLParameters(t *testing.T) {
	pool, err := store.Open(context.Background(),
		"postgres://app@127.0.0.1:1/chat?pool_max_conns=7&pool_max_conn_idle_time=5s&connect_timeout=2&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cfg := pool.Config()
	if cfg.MaxConns != 7 || cfg.MaxConnIdleTime != 5*time.Second || cfg.ConnConfig.ConnectTimeout != 2*time.Second ||
		cfg.ConnConfig.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
		t.Errorf("max %d, idle %v, connect timeout %v, mode %v", cfg.MaxConns, cfg.MaxConnIdleTime, cfg.ConnConfig.ConnectTimeout, cfg.ConnConfig.DefaultQueryExecMode)
	}

	kv, err := store.Open(context.Background(), "host=127.0.0.1 port=1 user=app pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if got := kv.Config().MaxConns; got != 3 {
		t.Errorf("keyword/value pool_max_conns: %d, want 3", got)
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	for _, url := range []string{
		"postgres://app:s3cr3t-pw@host:notaport/db",
		"postgres://app:s3cr3t-pw@host/db?pool_max_conns=many",
		"postgres://app:s3cr3t%2Fpw@host/db?default_query_exec_mode=bogus",
		"postgres://app@host/db?password=s3cr3t-pw&pool_max_conns=x",
		"host=h user=app password=s3cr3t-pw pool_max_conns=x",
		"host=h user=app password='s3cr3t-pw' pool_max_conns=x",
		"postgres://app:s3cr3t/pw@host:x/db",
	} {
		_, err := store.Open(context.Background(), url)
		if err == nil {
			t.Errorf("%s: no error", url)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr3t") {
			t.Errorf("error shows the password: %s", msg)
		}
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			t.Errorf("error wraps %T, which may carry the URL", e)
		}
	}
}

func TestIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{chat.Errorf(chat.EFORBIDDEN, "no"), false},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "23505"}), false},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "57P01"}), true},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "08006"}), true},
		{fmt.Errorf("store: x: %w", &pgconn.PgError{Code: "53300"}), true},
		{fmt.Errorf("store: x: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("store: x: %w", context.Canceled), false},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, true},
	} {
		if got := store.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestPingAndMarkPublished(t *testing.T) {
	eachMode(t, func(t *testing.T, db *store.DB, pool *pgxpool.Pool) {
		ctx := testContext(t)
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		saved, err := db.InsertMessage(ctx, user("alice"), chat.NewMessage{ReceiverID: "bob", Body: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MarkPublished(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkPublished(ctx, []int64{saved.Events[0].Seq}); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 1 {
			t.Errorf("%d unpublished, want 1", got)
		}
		// Marking again is harmless.
		if err := db.MarkPublished(ctx, []int64{saved.Events[0].Seq, saved.Events[1].Seq}); err != nil {
			t.Fatal(err)
		}
		if got := queryInt(t, pool, `SELECT count(*) FROM events_pending`); got != 0 {
			t.Errorf("%d unpublished, want 0", got)
		}

		ok, err := db.IsRoomMember(ctx, "r1", "alice")
		if err != nil || ok {
			t.Errorf("IsRoomMember before joining = %v, %v", ok, err)
		}
		createRoom(t, pool, "r1", "alice")
		ok, err = db.IsRoomMember(ctx, "r1", "alice")
		if err != nil || !ok {
			t.Errorf("IsRoomMember after joining = %v, %v", ok, err)
		}
	})
}
