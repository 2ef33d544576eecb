// Package storage adapts any S3-compatible service (AWS S3, Cloudflare R2,
// Supabase Storage's S3 endpoint, MinIO, versitygw) to chat.FileStorage with
// aws-sdk-go-v2: presigned PUTs and GETs (SigV4, signed by the SDK), HEAD and
// DELETE.
package storage

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/chatwire/chatwire/lib/chat"
	"github.com/chatwire/chatwire/lib/config"
)

// Config says where files live. Endpoint, Bucket and the keys are required.
type Config struct {
	// Endpoint is the service's URL, e.g. https://s3.us-east-1.amazonaws.com,
	// https://<account>.r2.cloudflarestorage.com,
	// https://<project>.supabase.co/storage/v1/s3.
	Endpoint        string
	Region          string // default us-east-1 (R2 takes "auto")
	Bucket          string
	AccessKeyID     string
	SecretAccessKey string
	// ForcePathStyle addresses https://endpoint/bucket/key instead of
	// https://bucket.endpoint/key: MinIO, Supabase and local servers need it.
	ForcePathStyle bool
	// HTTPClient carries the HEAD and DELETE calls; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the signing clock; nil: time.Now. Tests move it to make expired URLs.
	Now func() time.Time
}

// S3 is chat.FileStorage on one bucket.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	now     func() time.Time
}

var _ chat.FileStorage = (*S3)(nil)

// New returns the adapter; it makes no call until used.
func New(cfg Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" || cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("storage: endpoint, bucket and both keys are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	client := s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(strings.TrimSuffix(cfg.Endpoint, "/")),
		UsePathStyle: cfg.ForcePathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		HTTPClient:   httpClient,
		// Checksums only where S3 requires them: a presigned PUT that asked for
		// a CRC would fail for a browser that cannot compute it, and several
		// S3-compatible services reject the newer checksum headers.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           2,
	})
	s := &S3{client: client, bucket: cfg.Bucket, now: cfg.Now}
	s.presign = s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.Presigner = clockPresigner{signer: v4.NewSigner(), now: cfg.Now}
	})
	return s, nil
}

// FromConfig returns the adapter for chatwire's STORAGE_* configuration.
func FromConfig(c config.Storage, httpClient *http.Client, now func() time.Time) (*S3, error) {
	return New(Config{
		Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket,
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		ForcePathStyle: c.ForcePathStyle, HTTPClient: httpClient, Now: now,
	})
}

// clockPresigner is the SDK's SigV4 presigner with chatwire's clock.
type clockPresigner struct {
	signer *v4.Signer
	now    func() time.Time
}

func (p clockPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request,
	payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions),
) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.now(), optFns...)
}

// PresignPut returns a PUT bound to the key, the content type and the size:
// the signature covers Content-Type and Content-Length, so a different file
// is refused by the storage.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (chat.PresignedRequest, error) {
	signedAt := s.now()
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		ContentType:   aws.String(contentType),
		ContentLength: aws.Int64(size),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return chat.PresignedRequest{}, fmt.Errorf("storage: presign put: %w", err)
	}
	if !signed(req.SignedHeader, "Content-Length") {
		return chat.PresignedRequest{}, errors.New("storage: presign put: the SDK did not sign Content-Length")
	}
	// A browser sets Host and Content-Length itself and refuses to be told.
	headers := map[string]string{}
	for name, values := range req.SignedHeader {
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length":
			continue
		}
		headers[http.CanonicalHeaderKey(name)] = strings.Join(values, ",")
	}
	return chat.PresignedRequest{Method: req.Method, URL: req.URL, Headers: headers, ExpiresAt: signedAt.Add(ttl)}, nil
}

func signed(h http.Header, name string) bool {
	_, ok := h[http.CanonicalHeaderKey(name)]
	return ok
}

// PresignGet returns a GET URL that serves the file under its name, inline
// or as a download as file says, with the type chatwire recorded (whatever a
// server that failed to bind the upload's type might have stored).
func (s *S3) PresignGet(ctx context.Context, key string, file chat.Download, ttl time.Duration) (string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	disposition := "attachment"
	if file.Inline {
		disposition = "inline"
	}
	if d := mime.FormatMediaType(disposition, map[string]string{"filename": file.Name}); d != "" {
		in.ResponseContentDisposition = aws.String(d)
	} else {
		in.ResponseContentDisposition = aws.String(disposition)
	}
	if file.ContentType != "" {
		in.ResponseContentType = aws.String(file.ContentType)
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("storage: presign get: %w", err)
	}
	return req.URL, nil
}

// Stat returns the object's size (a HEAD request).
func (s *S3) Stat(ctx context.Context, key string) (int64, bool, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("storage: head: %w", err)
	}
	return aws.ToInt64(out.ContentLength), true, nil
}

// Delete removes the object; S3 answers success for a missing key too.
func (s *S3) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("storage: delete: %w", err)
	}
	return nil
}

// EnsureBucket creates the bucket unless it exists: for `chatwire dev` and
// tests, which start an empty server. Production buckets are made by hand.
func (s *S3) EnsureBucket(ctx context.Context) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err == nil || errors.As(err, &owned) || errors.As(err, &exists) {
		return nil
	}
	return fmt.Errorf("storage: create bucket: %w", err)
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
