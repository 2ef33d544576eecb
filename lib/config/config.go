// Package config reads chatwire's configuration from the environment.
//
// Errors name the variable and never echo its value: values may be secrets.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatwire/chatwire/lib/chat"
)

// Config is everything chatwire reads from the environment.
type Config struct {
	// DatabaseURL is the Postgres URL the functions use (possibly a pooler).
	DatabaseURL string
	// DirectURL, when set, is used for migrations: they hold a session-level
	// lock that transaction poolers do not keep.
	DirectURL string

	Pusher Pusher
	Auth   Auth

	// DBWebhookSecret is the bearer secret of /api/webhooks/database.
	DBWebhookSecret string
	// CronSecret is the bearer secret Vercel sends to /api/cron/outbox.
	CronSecret string
	// CORSAllowedOrigins lists the origins allowed to call the API from a
	// browser; "*" allows any. Empty: no CORS headers.
	CORSAllowedOrigins []string
	// SendRateLimit bounds each user's sends across every instance.
	SendRateLimit chat.RateLimit
	// RoomCreateLimit bounds the rooms each user creates, RoomAddLimit the
	// users a room creator adds to rooms, TypingRateLimit each user's typing
	// starts across all chats; all shared by every instance (Postgres).
	RoomCreateLimit chat.RateLimit
	RoomAddLimit    chat.RateLimit
	TypingRateLimit chat.RateLimit
	// RoomMaxMembers caps a room's members; 0 is no cap.
	RoomMaxMembers int
	// Storage is where uploaded files go; files are off when it is not set.
	Storage Storage
	// AttachmentMaxBytes bounds one upload (ATTACHMENT_MAX_BYTES).
	AttachmentMaxBytes int64
	// AttachmentTypes lists the accepted content types (ATTACHMENT_TYPES).
	AttachmentTypes []string
}

// Storage is an S3-compatible bucket (AWS S3, Cloudflare R2, Supabase
// Storage, MinIO).
type Storage struct {
	Endpoint        string
	Region          string
	Bucket          string
	AccessKeyID     string
	SecretAccessKey string
	// ForcePathStyle puts the bucket in the path, not the host name.
	ForcePathStyle bool
}

// Enabled reports whether files are configured.
func (s Storage) Enabled() bool { return s.Endpoint != "" }

// DefaultSendRateLimit applies when SEND_RATE_LIMIT is unset: 20 messages per
// 10 seconds per user, far above a person typing, far below a runaway loop.
var DefaultSendRateLimit = chat.RateLimit{Count: 20, Per: 10 * time.Second}

// Defaults of the other abuse limits, each far above what a person does and
// far below what a script does. A room of 100 costs 100 events per status
// change of a member, and a status change of every member costs 10,000.
var (
	DefaultRoomCreateLimit = chat.RateLimit{Count: 10, Per: time.Hour}
	DefaultRoomAddLimit    = chat.RateLimit{Count: 50, Per: time.Hour}
	DefaultTypingRateLimit = chat.RateLimit{Count: 20, Per: 10 * time.Second}
	DefaultRoomMaxMembers  = 100
)

// Pusher is the Pusher Channels app chatwire publishes to.
type Pusher struct {
	// Disabled turns realtime off: events are stored and served by poll only.
	Disabled bool
	AppID    string
	Key      string
	Secret   string
	Cluster  string
	// Host is host:port of a Pusher-protocol server; it overrides Cluster.
	Host   string
	UseTLS bool
}

// Auth says how JWTs are verified: exactly one of JWTSecret and JWKSURL is set.
type Auth struct {
	JWTSecret string
	JWKSURL   string
	Issuer    string
	Audience  string
}

// MigrationURL is the URL migrations should use.
func (c Config) MigrationURL() string {
	if c.DirectURL != "" {
		return c.DirectURL
	}
	return c.DatabaseURL
}

// Load reads and checks the configuration. It reports every problem at once,
// each naming its variable.
func Load(getenv func(string) string) (Config, error) {
	var problems []error
	problem := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	c := Config{
		DBWebhookSecret: getenv("DB_WEBHOOK_SECRET"),
		CronSecret:      getenv("CRON_SECRET"),
	}
	c.DatabaseURL, c.DirectURL = loadDatabase(getenv, problem)
	c.Pusher = loadPusher(getenv, problem)

	c.Auth = Auth{
		JWTSecret: getenv("AUTH_JWT_SECRET"),
		JWKSURL:   strings.TrimSpace(getenv("AUTH_JWKS_URL")),
		Issuer:    strings.TrimSpace(getenv("AUTH_ISSUER")),
		Audience:  strings.TrimSpace(getenv("AUTH_AUDIENCE")),
	}
	switch {
	case c.Auth.JWTSecret == "" && c.Auth.JWKSURL == "":
		problem("AUTH_JWT_SECRET or AUTH_JWKS_URL is required")
	case c.Auth.JWTSecret != "" && c.Auth.JWKSURL != "":
		problem("set only one of AUTH_JWT_SECRET and AUTH_JWKS_URL")
	case c.Auth.JWTSecret != "" && len(c.Auth.JWTSecret) < 32:
		problem("AUTH_JWT_SECRET must be at least 32 characters")
	case c.Auth.JWKSURL != "":
		if u, err := url.Parse(c.Auth.JWKSURL); err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Host))) {
			problem("AUTH_JWKS_URL must be an https URL")
		}
	}

	for _, origin := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if origin = strings.TrimSpace(origin); origin != "" {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, strings.TrimSuffix(origin, "/"))
		}
	}

	var err error
	c.SendRateLimit, err = ParseRateLimit(getenv("SEND_RATE_LIMIT"))
	if err != nil {
		problem("SEND_RATE_LIMIT %v", err)
	}
	for _, l := range []struct {
		name string
		to   *chat.RateLimit
		def  chat.RateLimit
	}{
		{"ROOM_CREATE_LIMIT", &c.RoomCreateLimit, DefaultRoomCreateLimit},
		{"ROOM_ADD_LIMIT", &c.RoomAddLimit, DefaultRoomAddLimit},
		{"TYPING_RATE_LIMIT", &c.TypingRateLimit, DefaultTypingRateLimit},
	} {
		if *l.to, err = parseLimit(getenv(l.name), l.def); err != nil {
			problem("%s %v", l.name, err)
		}
	}
	if c.RoomMaxMembers, err = parseCount(getenv("ROOM_MAX_MEMBERS"), DefaultRoomMaxMembers); err != nil {
		problem("ROOM_MAX_MEMBERS %v", err)
	}

	c.Storage, c.AttachmentMaxBytes, c.AttachmentTypes = loadFiles(getenv, problem)

	if len(problems) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(problems...))
	}
	return c, nil
}

// Relay is the configuration of `chatwire relay`: the database and Pusher,
// nothing about users.
type Relay struct {
	DatabaseURL string
	Pusher      Pusher
	// Storage signs the file URLs of the new-message events the relay
	// publishes (STORAGE_*, as serve reads them); off when unset.
	Storage Storage
}

// LoadRelay reads and checks the relay's configuration: DATABASE_URL and
// PUSHER_*, as Load reads them. Realtime must be enabled: a relay has nothing
// else to do.
func LoadRelay(getenv func(string) string) (Relay, error) {
	var problems []error
	problem := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	var c Relay
	c.DatabaseURL, _ = loadDatabase(getenv, problem)
	c.Pusher = loadPusher(getenv, problem)
	if c.Pusher.Disabled {
		problem("REALTIME_DISABLED=true leaves the relay nothing to do: it publishes to Pusher")
	}
	c.Storage, _, _ = loadFiles(getenv, problem)
	if len(problems) > 0 {
		return Relay{}, fmt.Errorf("config: %w", errors.Join(problems...))
	}
	return c, nil
}

// loadDatabase reads DATABASE_URL and DIRECT_URL.
func loadDatabase(getenv func(string) string, problem func(string, ...any)) (databaseURL, directURL string) {
	databaseURL = strings.TrimSpace(getenv("DATABASE_URL"))
	directURL = strings.TrimSpace(getenv("DIRECT_URL"))
	if databaseURL == "" {
		problem("DATABASE_URL is required")
	} else if err := checkPostgresURL(databaseURL); err != nil {
		problem("DATABASE_URL %v", err)
	}
	if directURL != "" {
		if err := checkPostgresURL(directURL); err != nil {
			problem("DIRECT_URL %v", err)
		}
	}
	return databaseURL, directURL
}

// loadPusher reads REALTIME_DISABLED and PUSHER_*.
func loadPusher(getenv func(string) string, problem func(string, ...any)) Pusher {
	disabled, err := parseBool(getenv("REALTIME_DISABLED"), false)
	if err != nil {
		problem("REALTIME_DISABLED %v", err)
	}
	useTLS, err := parseBool(getenv("PUSHER_USE_TLS"), true)
	if err != nil {
		problem("PUSHER_USE_TLS %v", err)
	}
	p := Pusher{
		Disabled: disabled,
		AppID:    strings.TrimSpace(getenv("PUSHER_APP_ID")),
		Key:      strings.TrimSpace(getenv("PUSHER_KEY")),
		Secret:   getenv("PUSHER_SECRET"),
		Cluster:  strings.TrimSpace(getenv("PUSHER_CLUSTER")),
		Host:     strings.TrimSpace(getenv("PUSHER_HOST")),
		UseTLS:   useTLS,
	}
	if !disabled {
		for _, v := range []struct{ name, value string }{
			{"PUSHER_APP_ID", p.AppID}, {"PUSHER_KEY", p.Key}, {"PUSHER_SECRET", p.Secret},
		} {
			if v.value == "" {
				problem("%s is required (or set REALTIME_DISABLED=true)", v.name)
			}
		}
		if p.AppID != "" {
			if _, err := strconv.ParseUint(p.AppID, 10, 64); err != nil {
				problem("PUSHER_APP_ID must be the numeric app id")
			}
		}
		if p.Cluster == "" && p.Host == "" {
			problem("PUSHER_CLUSTER is required unless PUSHER_HOST is set")
		}
		if p.Host != "" {
			if _, _, err := net.SplitHostPort(p.Host); err != nil {
				problem("PUSHER_HOST must be host:port")
			}
		}
		if !p.UseTLS && !isLoopback(p.Host) {
			problem("PUSHER_USE_TLS=false is allowed only with a loopback PUSHER_HOST, so production traffic is always encrypted")
		}
	}
	return p
}

func checkPostgresURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("must start with postgres:// or postgresql://")
	}
	return nil
}

// ParseRateLimit reads a limit as SEND_RATE_LIMIT takes it: "N/duration"
// (20/10s, 100/1m), or "off"; "" is DefaultSendRateLimit.
func ParseRateLimit(s string) (chat.RateLimit, error) {
	return parseLimit(s, DefaultSendRateLimit)
}

// parseCount reads a positive count, or "off" (0, no cap); "" is def.
func parseCount(s string, def int) (int, error) {
	switch s = strings.TrimSpace(s); s {
	case "":
		return def, nil
	case "off", "0":
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("must be a positive number, or off")
	}
	return n, nil
}

// parseLimit reads "N/duration" or "off"; "" is def.
func parseLimit(s string, def chat.RateLimit) (chat.RateLimit, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return def, nil
	case "off", "0":
		return chat.RateLimit{}, nil
	}
	count, per, ok := strings.Cut(s, "/")
	n, nerr := strconv.Atoi(strings.TrimSpace(count))
	d, derr := time.ParseDuration(strings.TrimSpace(per))
	if !ok || nerr != nil || derr != nil || n <= 0 || d <= 0 {
		return chat.RateLimit{}, errors.New(`must be "N/duration" such as 20/10s, or off`)
	}
	return chat.RateLimit{Count: n, Per: d}, nil
}

func parseBool(s string, fallback bool) (bool, error) {
	if strings.TrimSpace(s) == "" {
		return fallback, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, errors.New("must be true or false")
	}
	return b, nil
}

// isLoopback reports whether host (with or without a port) names this machine.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
