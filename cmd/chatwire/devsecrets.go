package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// devSecretNames are the variables dev generates, in the order of the file.
func devSecretNames() []string {
	return []string{"AUTH_JWT_SECRET", "PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET", "DB_WEBHOOK_SECRET", "CRON_SECRET"}
}

// loadDevSecrets returns the development secrets kept in path, generating
// and saving those it lacks. Keeping them across runs keeps the tokens
// minted by an earlier run valid.
func loadDevSecrets(path string) (map[string]string, error) {
	secrets, err := readEnvFile(path)
	if err != nil {
		return nil, err
	}
	generated := false
	for _, name := range devSecretNames() {
		if secrets[name] != "" {
			continue
		}
		if secrets[name], err = generateSecret(name); err != nil {
			return nil, err
		}
		generated = true
	}
	if generated {
		if err := writeEnvFile(path, secrets); err != nil {
			return nil, err
		}
	}
	return secrets, nil
}

// generateSecret makes a value of the shape the variable needs.
func generateSecret(name string) (string, error) {
	switch name {
	case "PUSHER_APP_ID":
		// Pusher's app ids are numbers; config checks that too.
		n, err := rand.Int(rand.Reader, big.NewInt(9_000_000))
		if err != nil {
			return "", fmt.Errorf("generate %s: %w", name, err)
		}
		return n.Add(n, big.NewInt(1_000_000)).String(), nil
	case "PUSHER_KEY":
		return randomHex(10) // 20 hex digits, as Pusher's keys
	default:
		return randomHex(32) // 64 characters, twice AUTH_JWT_SECRET's minimum
	}
}

func randomHex(bytes int) (string, error) {
	b := make([]byte, bytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// readEnvFile reads NAME=value lines of the variables dev generates; a
// missing file is an empty one.
func readEnvFile(path string) (map[string]string, error) {
	values := make(map[string]string)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return values, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		// Secrets are for the owner only, whoever created the file.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("make %s private: %w", path, err)
		}
	}
	known := make(map[string]bool)
	for _, name := range devSecretNames() {
		known[name] = true
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") || !known[strings.TrimSpace(name)] {
			continue
		}
		values[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return values, nil
}

// writeEnvFile replaces path with values, readable by its owner only. It
// writes a temporary file and renames it, so an interrupted write never
// leaves a half file whose secrets would silently change on the next run.
func writeEnvFile(path string, values map[string]string) error {
	dir := filepath.Dir(path)
	// Traversable by others: as root, localpg runs Postgres as an
	// unprivileged user who must reach .chatwire/postgres. The secrets file
	// itself is private.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	var b strings.Builder
	b.WriteString("# Development secrets of `chatwire dev`, generated once and kept so that its\n")
	b.WriteString("# tokens stay valid across restarts. Variables set in the environment win.\n")
	b.WriteString("# Delete this file to generate new ones.\n")
	for _, name := range devSecretNames() {
		fmt.Fprintf(&b, "%s=%s\n", name, values[name])
	}
	tmp, err := os.CreateTemp(dir, ".secrets-*.env") // created 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// devEnv is the environment dev runs the app with: forced values (the
// addresses dev chose) win over the real environment, which wins over
// fallbacks (generated secrets, the private Postgres).
type devEnv struct {
	getenv   func(string) string
	fallback map[string]string
	forced   map[string]string
}

func (e devEnv) get(name string) string {
	if v, ok := e.forced[name]; ok {
		return v
	}
	if v := e.getenv(name); v != "" {
		return v
	}
	return e.fallback[name]
}
