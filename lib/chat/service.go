package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/go-playground/validator/v10"
)

// Service is chatwire's domain: it checks what a user may do, stores it and
// hands the resulting events to the Publisher.
type Service struct {
	store     Store
	publisher Publisher
	log       *slog.Logger
	validate  *validator.Validate
	// publishTimeout bounds the one Pusher call a request makes, so a slow
	// Pusher delays an answer by at most this much.
	publishTimeout time.Duration
	typingInterval time.Duration
	outbox         OutboxOptions
	sendRateLimit  RateLimit
	limits         Limits
	files          FileOptions
	// lastStaleProbe is when this process last ran the stale step (unix ns).
	lastStaleProbe atomic.Int64
	// acks batches the acknowledgements of published events (acks.go) and
	// counts the sends in flight.
	acks             publishAcks
	maxSendsInFlight int
}

// Options tune a Service; zero values take the defaults.
type Options struct {
	PublishTimeout time.Duration // default 2 s
	TypingInterval time.Duration // default 1 s: at most one typing start per user, chat and interval
	Outbox         OutboxOptions // redelivery (outbox.go)
	SendRateLimit  RateLimit     // per-user sends shared by every instance (ratelimit.go); zero: no limit
	Files          FileOptions   // uploads (files.go); a nil Storage turns them off
	Limits         Limits        // the other abuse limits; zero values: no limit
	// MaxSendsInFlight sheds load: a send beyond this many in flight in the
	// process answers EUNAVAILABLE with a retry delay at once, instead of
	// queueing for a database connection without bound. Zero: no limit.
	MaxSendsInFlight int
	// AckDelay is for long-lived processes only (serve, dev): how long
	// acknowledgements of published events may wait for a send to carry
	// them before a timer writes them (acks.go). Zero, as in Vercel
	// functions, which are frozen after their response: the last request in
	// flight writes them before it answers.
	AckDelay time.Duration
}

// Limits bound what one user may cost others besides sending, shared by
// every instance through Postgres. A zero RateLimit, or RoomMaxMembers 0,
// is no limit.
type Limits struct {
	RoomCreate     RateLimit // rooms each user creates
	RoomAdd        RateLimit // other users a room creator adds
	Typing         RateLimit // typing starts of each user across all chats
	RoomMaxMembers int       // members of one room
}

// NewService returns the domain service. A nil publisher means realtime is
// disabled: events are stored for poll and never pushed.
func NewService(store Store, publisher Publisher, log *slog.Logger, opts Options) *Service {
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 2 * time.Second
	}
	if opts.TypingInterval <= 0 {
		opts.TypingInterval = time.Second
	}
	s := &Service{
		store:            store,
		log:              log,
		validate:         newValidator(),
		publishTimeout:   opts.PublishTimeout,
		typingInterval:   opts.TypingInterval,
		outbox:           opts.Outbox.withDefaults(),
		sendRateLimit:    opts.SendRateLimit,
		limits:           opts.Limits,
		files:            opts.Files.withDefaults(),
		maxSendsInFlight: opts.MaxSendsInFlight,
	}
	s.acks.delay = opts.AckDelay
	s.publisher = s.SignFiles(publisher)
	return s
}

// overloadRetryAfter is the wait an overloaded process asks for: long enough
// for a queue of sends to drain, short enough for a chat.
const overloadRetryAfter = time.Second

// overloaded is the answer to a send shed for load: nothing was stored, and
// the client retries after RetryAfterMS with the same client_id.
func (s *Service) overloaded() error {
	return &Error{
		Code:         EUNAVAILABLE,
		Message:      fmt.Sprintf("overloaded: too many sends in progress; nothing was stored, try again in %d ms", overloadRetryAfter.Milliseconds()),
		RetryAfterMS: overloadRetryAfter.Milliseconds(),
	}
}

// newValidator returns a validator that names fields as they are spelled in JSON.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return f.Name
		}
		return name
	})
	return v
}

// check runs the struct tags of in and turns failures into an EINVALID error
// naming every offending field.
func (s *Service) check(in any) error {
	err := s.validate.Struct(in)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	fields := make(map[string]string, len(verrs))
	var names []string
	for _, fe := range verrs {
		name := strings.SplitN(fe.Namespace(), ".", 2)[1] // drop the struct type name
		problem := describe(fe)
		// A list element is reported on the list: "message_ids", "item 3: …".
		if base, index, ok := strings.Cut(name, "["); ok {
			name, problem = base, "item "+strings.TrimSuffix(index, "]")+": "+problem
		}
		if _, seen := fields[name]; !seen {
			names = append(names, name)
		}
		fields[name] = problem
	}
	return &Error{Code: EINVALID, Message: "invalid " + strings.Join(names, ", "), Fields: fields}
}

// describe turns one validator failure into words a client developer can act on.
func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required", "required_without", "required_without_all":
		return "required"
	case "excluded_with":
		return "not allowed together with " + jsonName(fe.Param())
	case "max", "min":
		unit := " characters"
		if k := fe.Kind(); k == reflect.Slice || k == reflect.Array || k == reflect.Map {
			unit = " items"
		}
		if fe.Tag() == "max" {
			return "at most " + fe.Param() + unit
		}
		return "at least " + fe.Param() + unit
	case "gte", "lte":
		return "out of range"
	case "url", "startswith":
		return "must be an https URL"
	case "uuid":
		return "must be a UUID"
	case "dive":
		return "invalid element"
	}
	return "invalid (" + fe.Tag() + ")"
}

// jsonName spells a Go field name as its JSON field: RoomID is room_id.
func jsonName(field string) string {
	var b strings.Builder
	for i, r := range field {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && !(field[i-1] >= 'A' && field[i-1] <= 'Z') {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// publish sends events with the publish deadline and records them as
// published. It reports whether Pusher took them; on failure the events stay
// pending for the outbox sweep.
func (s *Service) publish(ctx context.Context, events []Event) bool {
	seqs, ok := s.publishEvents(ctx, events)
	s.finishAcks(ctx, seqs, false)
	return ok
}

// publishEvents sends events with the publish deadline and returns the seqs
// to acknowledge when Pusher took them.
func (s *Service) publishEvents(ctx context.Context, events []Event) (seqs []int64, ok bool) {
	if len(events) == 0 {
		return nil, true
	}
	if s.publisher == nil {
		return nil, false
	}
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout)
	defer cancel()
	if err := s.publisher.Publish(pctx, events); err != nil {
		s.log.WarnContext(ctx, "publish failed; events stay in the outbox", "events", len(events), "err", err)
		return nil, false
	}
	seqs = make([]int64, 0, len(events))
	for _, e := range events {
		seqs = append(seqs, e.Seq)
	}
	// Pusher answers: the moment to redeliver a few events that missed it.
	s.republishStale(ctx)
	return seqs, true
}

// Health reports whether the database answers, and the number of the last
// migration it ran (0: none).
func (s *Service) Health(ctx context.Context) (schemaVersion int32, err error) {
	return s.store.SchemaVersion(ctx)
}
