package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatwire/chatwire/lib/localgw"
	"github.com/chatwire/chatwire/lib/storage"
)

// devStorageBucket is the bucket dev creates in its own S3-compatible server.
const devStorageBucket = "chatwire-dev"

// startDevStorage gives dev working file uploads with no account: unless
// STORAGE_ENDPOINT is set, it starts versitygw (posix backend) with its
// buckets under .chatwire/storage, on a free loopback port, and points
// STORAGE_* at it. Without the binary, files stay off and the returned
// description says how to get it. stop is never nil.
func startDevStorage(ctx context.Context, env devEnv) (stop func(), description string, err error) {
	stop = func() {}
	if strings.TrimSpace(env.getenv("STORAGE_ENDPOINT")) != "" {
		return stop, "STORAGE_ENDPOINT from the environment", nil
	}
	bin, err := localgw.FindBinary(env.getenv)
	if err != nil {
		return stop, "off: " + err.Error() + ", then restart dev", nil
	}
	secret, err := randomHex(20)
	if err != nil {
		return stop, "", err
	}
	dir := filepath.Join(devDir, "storage")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return stop, "", fmt.Errorf("storage: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "versitygw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return stop, "", fmt.Errorf("storage: %w", err)
	}
	// The demo page and any local frontend upload from another origin.
	srv, err := localgw.Start(ctx, localgw.Options{
		Binary: bin, Dir: filepath.Join(dir, "buckets"), AccessKeyID: "chatwire-dev", SecretAccessKey: secret,
		CORSOrigin: "*", Log: logFile,
	})
	if err != nil {
		logFile.Close()
		return stop, "", fmt.Errorf("storage (or set STORAGE_ENDPOINT): %w", err)
	}
	stop = func() { srv.Stop(); logFile.Close() }
	cfg := storage.Config{Endpoint: srv.Endpoint, Bucket: devStorageBucket, AccessKeyID: "chatwire-dev", SecretAccessKey: secret, ForcePathStyle: true}
	s3, err := storage.New(cfg)
	if err == nil {
		err = s3.EnsureBucket(ctx)
	}
	if err != nil {
		stop()
		return func() {}, "", fmt.Errorf("storage: %w", err)
	}
	for name, value := range map[string]string{
		"STORAGE_ENDPOINT": srv.Endpoint, "STORAGE_REGION": "us-east-1", "STORAGE_BUCKET": devStorageBucket,
		"STORAGE_ACCESS_KEY_ID": "chatwire-dev", "STORAGE_SECRET_ACCESS_KEY": secret, "STORAGE_FORCE_PATH_STYLE": "true",
	} {
		env.forced[name] = value
	}
	return stop, fmt.Sprintf("versitygw at %s, bucket %s in %s", srv.Endpoint, devStorageBucket, dir), nil
}
