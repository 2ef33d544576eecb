// Package localpg runs a private PostgreSQL server for development and tests,
// from the initdb and pg_ctl of a local PostgreSQL install.
//
// The server keeps its data under Options.Dir, listens on 127.0.0.1 only with
// trust authentication for the superuser "postgres", and runs with fsync=off:
// fast, and safe against a crash of the server, but not of the machine, which
// is the right trade for throwaway development and test data.
//
// initdb and postgres refuse to run as root. As root, Start runs them as the
// "postgres" user if it exists, else "nobody", and gives Dir to that user. If
// that user cannot reach Dir (a parent such as /root is private), the server
// lives in a directory under os.TempDir() instead; Server.Dir reports where.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options configure Start.
type Options struct {
	// Dir holds the server: data/ (the cluster), the log and the unix socket.
	// Required. An existing cluster there is reused.
	Dir string
	// Port is the TCP port on 127.0.0.1. 0 reuses the port of the last run in
	// Dir when it is free, else picks a free one.
	Port int
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
}

// Server is a running private PostgreSQL server.
type Server struct {
	binDir string
	dir    string
	port   int
	owner  *runAs // nil unless running as root
	log    *slog.Logger
}

// startTimeout bounds pg_ctl start and stop; pg_ctl's own default is 60 s.
const startTimeout = 60 * time.Second

// Start starts the server, creating the cluster with initdb on first use. It
// reuses a server already running on Dir's cluster (left by a process that
// did not stop it), and clears a postmaster.pid left by a dead one.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := lookupRunAs()
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: dir: %w", err)
	}
	dir, err = prepareDir(dir, owner, log)
	if err != nil {
		return nil, err
	}
	s := &Server{binDir: binDir, dir: dir, owner: owner, log: log}
	if err := s.initdb(ctx); err != nil {
		return nil, err
	}
	if port, ok := s.running(ctx); ok {
		log.Info("localpg: reusing running server", "dir", dir, "port", port)
		s.port = port
		return s, nil
	}
	if err := s.start(ctx, opts.Port); err != nil {
		return nil, err
	}
	log.Info("localpg: started", "dir", dir, "port", s.port, "bin", binDir)
	return s, nil
}

// URL is the connection string for the superuser "postgres" and the
// "postgres" database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port is the TCP port the server listens on at 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Dir is the directory holding the server: Options.Dir, or the fallback
// under os.TempDir() when the unprivileged user cannot reach Options.Dir.
func (s *Server) Dir() string { return s.dir }

// Stop shuts the server down (pg_ctl stop -m fast: sessions are ended, data is
// kept). Stopping a server that is not running is not an error.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+10*time.Second)
	defer cancel()
	out, err := s.pgCtl(ctx, false, "stop", "-D", s.dataDir(), "-m", "fast", "-w", "-t", seconds(startTimeout))
	if err == nil {
		return nil
	}
	if !s.isRunning(ctx) {
		return nil
	}
	return fmt.Errorf("localpg: pg_ctl stop: %w: %s", err, out)
}

func (s *Server) dataDir() string  { return filepath.Join(s.dir, "data") }
func (s *Server) logFile() string  { return filepath.Join(s.dir, "postgres.log") }
func (s *Server) portFile() string { return filepath.Join(s.dir, "port") }

// initdb creates the cluster unless it exists. It builds it in a scratch
// directory and renames it into place, so an interrupted initdb never leaves
// a half-made cluster that later starts would trip over.
func (s *Server) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); err == nil {
		return s.owner.chownTree(s.dataDir())
	}
	scratch := s.dataDir() + ".initdb"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("localpg: initdb: %w", err)
	}
	s.log.Info("localpg: initdb", "dir", s.dataDir())
	out, err := s.run(ctx, false, "initdb",
		"-D", scratch,
		"-U", "postgres",
		"--auth=trust", // loopback only: listen_addresses is 127.0.0.1, the socket dir is private
		"-E", "UTF8",
		"--locale=C", // independent of the locales installed on the machine
		"--no-sync",
	)
	if err != nil {
		return fmt.Errorf("localpg: initdb: %w: %s", err, out)
	}
	if err := os.Rename(scratch, s.dataDir()); err != nil {
		return fmt.Errorf("localpg: initdb: %w", err)
	}
	return nil
}

// start runs pg_ctl start -w. With port 0 it tries a few free ports, since
// another process may take a port between our probe and the server's bind.
func (s *Server) start(ctx context.Context, port int) error {
	attempts := 1
	if port == 0 {
		attempts = 3
	}
	var err error
	for range attempts {
		p := port
		if p == 0 {
			if p, err = s.pickPort(); err != nil {
				return err
			}
		}
		if err = s.startOn(ctx, p); err == nil {
			s.port = p
			// Remembered so that a restart keeps the URL a developer copied.
			_ = os.WriteFile(s.portFile(), []byte(strconv.Itoa(p)+"\n"), 0o644)
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

func (s *Server) startOn(ctx context.Context, port int) error {
	opts := []string{
		"-c listen_addresses=127.0.0.1",
		"-c port=" + strconv.Itoa(port),
		"-c unix_socket_directories=" + s.socketDir(),
		"-c fsync=off",              // throwaway data: see the package comment
		"-c full_page_writes=off",   // only matters with fsync
		"-c synchronous_commit=off", //
		"-c max_connections=200",    // parallel test packages each hold a pool
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout+10*time.Second)
	defer cancel()
	out, err := s.pgCtl(ctx, true, "start", "-D", s.dataDir(), "-l", s.logFile(), "-w", "-t", seconds(startTimeout),
		"-o", strings.Join(opts, " "))
	if err == nil {
		return nil
	}
	// pg_ctl may give up while the postmaster lives on; do not leave it behind.
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer stopCancel()
	_, _ = s.pgCtl(stopCtx, false, "stop", "-D", s.dataDir(), "-m", "immediate", "-w")
	return fmt.Errorf("localpg: pg_ctl start on port %d: %w: %s%s", port, err, out, s.logTail())
}

// socketDir is where the unix socket goes: Dir itself, so that nothing needs
// /var/run/postgresql. The socket is disabled (empty) when its path would
// exceed the 107-byte limit of unix socket names or when Dir holds characters
// that pg_ctl's shell command line or postgres's list syntax would mangle;
// clients use TCP anyway.
func (s *Server) socketDir() string {
	if len(s.dir)+len("/.s.PGSQL.65535.lock") > 100 || strings.ContainsAny(s.dir, "'\",\\ $`") {
		return "''"
	}
	return "'" + s.dir + "'"
}

// pickPort prefers the port of the previous run so a restarted dev server
// keeps its URL.
func (s *Server) pickPort() (int, error) {
	if b, err := os.ReadFile(s.portFile()); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(p) {
			return p, nil
		}
	}
	p, err := freePort()
	if err != nil {
		return 0, fmt.Errorf("localpg: pick port: %w", err)
	}
	return p, nil
}

// logTail returns the end of the server log, which says why a start failed.
func (s *Server) logTail() string {
	f, err := os.Open(s.logFile())
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 2000
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return "\nserver log (" + s.logFile() + "):\n" + string(b)
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
