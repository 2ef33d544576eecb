package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatwire/chatwire/lib/localpg"
	"github.com/chatwire/chatwire/lib/migrate"
)

// database is a fresh chatbench_* database with chatwire's schema, on the
// server of DATABASE_URL or on a private one.
type database struct {
	name      string
	url       string // of the chatbench_* database
	serverURL string // of the server's maintenance database, to drop it
	version   string // the server's version, for the report
	local     *localpg.Server
	localDir  string
	// statements: the server records pg_stat_statements.
	statements bool
	pool       *pgxpool.Pool // a small pool of the harness's own, for sampling and seeding
}

// openDatabase creates the database. With private set, or when DATABASE_URL
// is empty, it first starts a private Postgres (lib/localpg) in a temp dir:
// heavy seeding there holds back no one else's poll. With statements set
// (private servers only) the server loads pg_stat_statements.
func openDatabase(ctx context.Context, getenv func(string) string, private, statements bool, log io.Writer) (*database, error) {
	db := &database{}
	serverURL := strings.TrimSpace(getenv("DATABASE_URL"))
	if statements && serverURL != "" && !private {
		return nil, &usageError{"-pg-statements needs chatbench's private Postgres: unset DATABASE_URL"}
	}
	if private || serverURL == "" {
		dir, err := os.MkdirTemp("", "chatbench-pg-")
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "chatbench: starting a private Postgres in %s\n", dir)
		pg, err := localpg.Start(ctx, localpg.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("private Postgres (or set DATABASE_URL): %w", err)
		}
		db.local, db.localDir, serverURL = pg, dir, pg.URL()
		if statements {
			if err := db.loadStatements(ctx); err != nil {
				db.close()
				return nil, err
			}
		}
	}
	db.serverURL = serverURL
	db.name = "chatbench_" + randomHex(6)
	if err := db.create(ctx); err != nil {
		db.close()
		return nil, err
	}
	return db, nil
}

func (db *database) create(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.serverURL)
	if err != nil {
		return fmt.Errorf("connect to Postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&db.version); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db.name); err != nil {
		return fmt.Errorf("create database %s: %w", db.name, err)
	}
	if db.url, err = databaseURL(db.serverURL, db.name); err != nil {
		return err
	}
	if err := migrate.Up(ctx, db.url); err != nil {
		return err
	}
	if db.statements {
		c, err := pgx.Connect(ctx, db.url)
		if err != nil {
			return err
		}
		_, err = c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
		c.Close(ctx)
		if err != nil {
			return err
		}
	}
	db.pool, err = pgxpool.New(ctx, withParams(db.url, map[string]string{"pool_max_conns": "4", "application_name": "chatbench"}))
	return err
}

// loadStatements restarts the private server with pg_stat_statements
// loaded, which only server start can do.
func (db *database) loadStatements(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, db.local.URL())
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("pg_stat_statements: %w", err)
	}
	if err := db.local.Stop(); err != nil {
		return err
	}
	pg, err := localpg.Start(ctx, localpg.Options{Dir: db.localDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	db.local, db.statements = pg, true
	return nil
}

// connections counts the sessions of the database whose application_name is
// app: the server's pool, not the harness's.
func (db *database) connections(ctx context.Context, app string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
		db.name, app).Scan(&n)
	return n, err
}

// postmasterPID is the private server's main process, 0 for DATABASE_URL's.
func (db *database) postmasterPID() int {
	if db.local == nil {
		return 0
	}
	raw, err := os.ReadFile(filepath.Join(db.local.Dir(), "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	return pid
}

// close drops the database and stops the private server, if any.
func (db *database) close() error {
	var errs []error
	if db.pool != nil {
		db.pool.Close()
	}
	if db.url != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := pgx.Connect(ctx, db.serverURL)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)")
			conn.Close(ctx)
		}
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", db.name, err))
		}
	}
	if db.local != nil {
		errs = append(errs, db.local.Stop())
		errs = append(errs, os.RemoveAll(db.localDir))
	}
	return errors.Join(errs...)
}

// databaseURL is serverURL with its database replaced by name.
func databaseURL(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// withParams sets query parameters of a Postgres URL.
func withParams(raw string, params map[string]string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
