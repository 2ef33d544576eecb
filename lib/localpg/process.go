package localpg

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// run runs one of the server binaries as the server's user, in Dir (a root
// working directory such as /root is unreadable for that user and initdb
// fails on it), with PG* variables removed so that a developer's PGDATA or
// PGPORT cannot redirect it. newGroup puts the process in its own process
// group: the postmaster inherits it, so a Ctrl-C meant for chatwire does not
// reach the server and Stop can shut it down in order.
func (s *Server) run(ctx context.Context, newGroup bool, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = s.owner.sysProcAttr(newGroup)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// If a descendant kept our pipe open, Wait would block forever.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func (s *Server) pgCtl(ctx context.Context, newGroup bool, args ...string) (string, error) {
	return s.run(ctx, newGroup, "pg_ctl", args...)
}

// isRunning reports whether pg_ctl sees a live postmaster for the cluster.
func (s *Server) isRunning(ctx context.Context) bool {
	_, err := s.pgCtl(ctx, false, "status", "-D", s.dataDir())
	return err == nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// prepareDir creates dir for the server's user. As root that user must be
// able to reach dir through its parents; when it cannot, prepareDir falls
// back to a directory under os.TempDir() named after dir, so each Dir keeps
// its own cluster across runs.
func prepareDir(dir string, owner *runAs, log *slog.Logger) (string, error) {
	if err := owner.mkdir(dir); err != nil {
		return "", err
	}
	if owner.canReach(dir) {
		return dir, nil
	}
	fallback := filepath.Join(os.TempDir(), "chatwire-localpg-"+shortHash(dir))
	log.Warn("localpg: the server's user cannot reach the directory; using a temporary one",
		"dir", dir, "user", owner.name, "fallback", fallback)
	if err := owner.mkdir(fallback); err != nil {
		return "", err
	}
	if !owner.canReach(fallback) {
		return "", errors.New("localpg: user " + owner.name + " can reach neither " + dir + " nor " + fallback)
	}
	return fallback, nil
}
