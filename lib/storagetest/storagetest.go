// Package storagetest gives tests a real S3-compatible server: versitygw
// with its posix backend under the test's temporary directory, which checks
// SigV4 signatures as AWS does. Without the binary a test skips, except under
// CI, where it fails: CI installs versitygw and never skips storage tests.
package storagetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatwire/chatwire/lib/localgw"
	"github.com/chatwire/chatwire/lib/storage"
)

// Keys of every test server; they protect nothing outside a test.
const (
	AccessKeyID     = "chatwire-test"
	SecretAccessKey = "chatwire-test-secret-0123456789"
	Bucket          = "chatwire-files"
)

// Options tune Start.
type Options struct {
	// CORSOrigin lets a browser page on that origin use presigned URLs.
	CORSOrigin string
}

// Start runs a server for the test, creates the bucket and returns the
// adapter's configuration; the server stops when the test ends.
func Start(tb testing.TB, opts ...Options) storage.Config {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	bin, err := localgw.FindBinary(os.Getenv)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI is set and the storage tests need versitygw: %v", err)
		}
		tb.Skipf("skipping: %v", err)
	}
	dir := tb.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = logFile.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := localgw.Start(ctx, localgw.Options{
		Binary: bin, Dir: filepath.Join(dir, "buckets"), AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey,
		CORSOrigin: o.CORSOrigin, Log: logFile,
	})
	if err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	tb.Cleanup(srv.Stop)
	cfg := storage.Config{
		Endpoint: srv.Endpoint, Region: "us-east-1", Bucket: Bucket,
		AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, ForcePathStyle: true,
	}
	s3, err := storage.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s3.EnsureBucket(ctx); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return cfg
}
