package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// nextMessagesSQL is the Next.js route peer's table: a message, nothing else.
const nextMessagesSQL = `CREATE TABLE IF NOT EXISTS next_messages (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id   text,
  sender_id   text NOT NULL,
  receiver_id text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sender_id, client_id)
)`

// nextPeerDir is bench/nextjs-route in the repository.
func nextPeerDir() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bench", "nextjs-route"), nil
}

// buildNextPeer copies the Next.js route peer to a temp directory named after
// a hash of its sources and lockfile, and there runs `npm ci` and `next
// build`, once: a later run with the same sources reuses the build.
func buildNextPeer(ctx context.Context, log io.Writer) (string, error) {
	src, err := nextPeerDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var files []string
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".next") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(src, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", rel, len(raw))
			h.Write(raw)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("nextjs peer: %w", err)
	}
	dir := filepath.Join(os.TempDir(), "chatbench-nextjs-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, ".next", "BUILD_ID")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "chatbench-nextjs-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, rel := range files {
		raw, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, rel)), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, rel), raw, 0o644); err != nil {
			return "", err
		}
	}
	for _, step := range [][]string{
		{"npm", "ci", "--no-audit", "--no-fund"},
		{"node", "node_modules/next/dist/bin/next", "build"},
	} {
		fmt.Fprintf(log, "chatbench: nextjs peer: %v in %s\n", step, tmp)
		cmd := exec.CommandContext(ctx, step[0], step[1:]...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "NEXT_TELEMETRY_DISABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("nextjs peer: %v: %w: %s", step, err, tail(out, 2000))
		}
	}
	// Another chatbench may have finished the same build meanwhile.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".next", "BUILD_ID")); serr == nil {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// startNextPeer serves the built peer with `next start` on a free loopback
// port, publishing to chatwire's Pusher-protocol server, and waits until it
// answers.
func startNextPeer(ctx context.Context, db *database, s secrets, o options, built, pusherAddr, logPath string) (*process, error) {
	if _, err := db.pool.Exec(ctx, nextMessagesSQL); err != nil {
		return nil, fmt.Errorf("nextjs peer: table: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.node, "node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = built
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"NODE_ENV=production",
		"NEXT_TELEMETRY_DISABLED=1",
		"DATABASE_URL=" + withParams(db.url, map[string]string{"application_name": "nextjs-route"}),
		"AUTH_JWT_SECRET=" + s.jwt,
		"PUSHER_APP_ID=" + pusherAppID,
		"PUSHER_KEY=" + pusherKey,
		"PUSHER_SECRET=" + s.pusher,
		"PUSHER_HOST=" + pusherAddr,
		"PG_POOL_MAX=" + strconv.Itoa(o.pool),
	}
	cmd.WaitDelay = 5 * time.Second
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, stdin: stdin, addrs: childAddrs{Port: port}}
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return p, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, errors.Join(fmt.Errorf("nextjs peer: not listening on %d within a minute; see %s", port, logPath), ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
