package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startPeer starts the Socket.IO + pg peer (bench/socketio/server.mjs) on
// the same database as chatwire, with a pool as large as chatwire's. It
// installs the peer's locked dependencies first when they are missing.
func startPeer(ctx context.Context, db *database, s secrets, o options, dir string, log io.Writer) (*process, error) {
	peerDir := o.peerDir
	if peerDir == "" {
		root, err := repoRoot()
		if err != nil {
			return nil, err
		}
		peerDir = filepath.Join(root, "bench", "socketio")
	}
	if _, err := os.Stat(filepath.Join(peerDir, "node_modules", "socket.io")); err != nil {
		fmt.Fprintf(log, "chatbench: npm ci in %s\n", peerDir)
		npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		npm.Dir = peerDir
		if out, err := npm.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("peer: npm ci: %w: %s", err, out)
		}
	}
	cmd := exec.CommandContext(ctx, o.node, "server.mjs")
	cmd.Dir = peerDir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"NODE_ENV=production",
		"DATABASE_URL=" + withParams(db.url, map[string]string{"application_name": "socketio-peer"}),
		"AUTH_JWT_SECRET=" + s.jwt,
		"PORT=0",
		"PG_POOL_MAX=" + strconv.Itoa(o.pool),
	}
	cmd.WaitDelay = 5 * time.Second
	return startProcess(ctx, cmd, filepath.Join(dir, "peer.log"))
}

// repoRoot is the directory of chatwire's go.mod, found from the working
// directory upwards.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(raw), "module github.com/chatwire/chatwire\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run chatbench inside the chatwire repository (or give -peer-dir)")
		}
		dir = parent
	}
}
