package localpg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// running looks at postmaster.pid. A server that answers on the port it
// records, and confirms it serves this cluster, is reused. A file left behind
// by a dead process, or whose PID now belongs to an unrelated process (common
// in containers, where PIDs repeat after a restart), is removed: postgres
// would refuse to start on it. Removing it is safe even if a postmaster for
// this cluster still lives, because postgres also refuses to start while the
// old shared memory segment is attached.
func (s *Server) running(ctx context.Context) (port int, ok bool) {
	pidFile := filepath.Join(s.dataDir(), "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false // none, or unreadable: pg_ctl start will say what is wrong
	}
	// Lines: PID, data dir, start time, port, socket dir, listen address, shmem key, status.
	lines := strings.Split(string(b), "\n")
	var pid int
	if len(lines) >= 4 {
		pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
		port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if pid > 0 && port > 0 && processAlive(pid) && s.serves(ctx, port) {
		return port, true
	}
	s.log.Warn("localpg: removing stale postmaster.pid", "file", pidFile, "pid", pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("localpg: remove stale postmaster.pid", "err", err)
	}
	return 0, false
}

// serves reports whether the server on port is the one of this cluster.
func (s *Server) serves(ctx context.Context, port int) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return false
	}
	return sameFile(dataDir, s.dataDir())
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
