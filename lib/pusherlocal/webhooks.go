package pusherlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

const (
	webhookQueueSize   = 1024
	webhookAttempts    = 4
	webhookBackoffBase = 200 * time.Millisecond
)

// webhookEvent is one entry of a webhook's "events" array.
type webhookEvent struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
	UserID  string `json:"user_id,omitempty"`
}

// webhooks turns channel and member changes into webhooks. It tracks what the
// receiver has been told, so that a member who leaves and comes back within
// MemberRemovedDelay is never reported as removed (nor its presence channel
// as vacated): the app would otherwise flap the user offline and online.
//
// The tracking state is guarded by the Server's mutex: every method except
// run is called with it held. A nil *webhooks (no WebhookURL) does nothing.
type webhooks struct {
	srv    *Server
	url    string
	key    string
	secret string
	client *http.Client
	log    *slog.Logger
	delay  time.Duration

	queue  chan []byte   // encoded bodies, delivered in order by run
	done   chan struct{} // closed by stop
	ctx    context.Context
	cancel context.CancelFunc // ends run and any delivery in flight

	reportedOccupied map[string]bool
	reportedMembers  map[string]map[string]bool // channel → user ids
	pendingRemovals  map[memberKey]*pendingRemoval
	stopOnce         sync.Once
}

type memberKey struct{ channel, userID string }

type pendingRemoval struct{ timer *time.Timer }

func newWebhooks(s *Server) *webhooks {
	if s.cfg.WebhookURL == "" {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{
		ctx:              ctx,
		cancel:           cancel,
		srv:              s,
		url:              s.cfg.WebhookURL,
		key:              s.cfg.Key,
		secret:           s.cfg.Secret,
		client:           s.cfg.HTTPClient,
		log:              s.log,
		delay:            s.cfg.MemberRemovedDelay,
		queue:            make(chan []byte, webhookQueueSize),
		done:             make(chan struct{}),
		reportedOccupied: make(map[string]bool),
		reportedMembers:  make(map[string]map[string]bool),
		pendingRemovals:  make(map[memberKey]*pendingRemoval),
	}
}

func (w *webhooks) channelOccupied(channel string) {
	if w == nil || w.reportedOccupied[channel] {
		return
	}
	w.reportedOccupied[channel] = true
	w.enqueue(webhookEvent{Name: "channel_occupied", Channel: channel})
}

// channelEmptied reports a vacated channel at once, except presence
// channels: their vacated waits for the delayed member_removed of their last
// member (see memberRemoved).
func (w *webhooks) channelEmptied(channel string, kind channelKind) {
	if w == nil {
		return
	}
	if kind == presenceChannel {
		w.vacateIfSettled(channel)
		return
	}
	if w.reportedOccupied[channel] {
		delete(w.reportedOccupied, channel)
		w.enqueue(webhookEvent{Name: "channel_vacated", Channel: channel})
	}
}

func (w *webhooks) memberAdded(channel, userID string) {
	if w == nil {
		return
	}
	key := memberKey{channel, userID}
	if p := w.pendingRemovals[key]; p != nil {
		// The user came back before their removal was reported: as far as
		// the receiver knows they never left.
		p.timer.Stop()
		delete(w.pendingRemovals, key)
		return
	}
	if w.reportedMembers[channel][userID] {
		return
	}
	if w.reportedMembers[channel] == nil {
		w.reportedMembers[channel] = make(map[string]bool)
	}
	w.reportedMembers[channel][userID] = true
	w.enqueue(webhookEvent{Name: "member_added", Channel: channel, UserID: userID})
}

// memberRemoved schedules the member_removed webhook after the delay.
func (w *webhooks) memberRemoved(channel, userID string) {
	if w == nil {
		return
	}
	key := memberKey{channel, userID}
	p := &pendingRemoval{}
	w.pendingRemovals[key] = p
	p.timer = time.AfterFunc(w.delay, func() {
		w.srv.mu.Lock()
		defer w.srv.mu.Unlock()
		if w.pendingRemovals[key] != p {
			return // cancelled by a rejoin, or the server closed
		}
		delete(w.pendingRemovals, key)
		if members := w.reportedMembers[channel]; members != nil {
			delete(members, userID)
			if len(members) == 0 {
				delete(w.reportedMembers, channel)
			}
		}
		w.enqueue(webhookEvent{Name: "member_removed", Channel: channel, UserID: userID})
		w.vacateIfSettled(channel)
	})
}

// vacateIfSettled reports a presence channel vacated once it is empty and
// every member's removal has been reported.
func (w *webhooks) vacateIfSettled(channel string) {
	if w.srv.channels[channel] != nil || len(w.reportedMembers[channel]) > 0 || !w.reportedOccupied[channel] {
		return
	}
	delete(w.reportedOccupied, channel)
	w.enqueue(webhookEvent{Name: "channel_vacated", Channel: channel})
}

// enqueue hands one event to the delivery worker without blocking: when the
// receiver is so far behind that the queue is full, the webhook is dropped
// and logged rather than stalling the sockets.
func (w *webhooks) enqueue(event webhookEvent) {
	body, err := json.Marshal(struct {
		TimeMs int64          `json:"time_ms"`
		Events []webhookEvent `json:"events"`
	}{time.Now().UnixMilli(), []webhookEvent{event}})
	if err != nil {
		w.log.Error("encode webhook", "err", err)
		return
	}
	select {
	case <-w.done:
	case w.queue <- body:
	default:
		w.log.Warn("webhook queue full, dropping webhook", "event", event.Name, "channel", event.Channel)
	}
}

// stop cancels the delayed removals and ends run, abandoning queued webhooks.
// Called with the Server's mutex held.
func (w *webhooks) stop() {
	if w == nil {
		return
	}
	w.stopOnce.Do(func() {
		close(w.done)
		w.cancel()
		for key, p := range w.pendingRemovals {
			p.timer.Stop()
			delete(w.pendingRemovals, key)
		}
	})
}

// run delivers queued webhooks one at a time, in order, until stop.
func (w *webhooks) run() {
	ctx := w.ctx
	for {
		select {
		case <-ctx.Done():
			return
		case body := <-w.queue:
			w.deliver(ctx, body)
		}
	}
}

// deliver POSTs one webhook, retrying with exponential backoff while the
// receiver fails (connection error or non-2xx answer).
func (w *webhooks) deliver(ctx context.Context, body []byte) {
	backoff := webhookBackoffBase
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, body)
		if err == nil {
			return
		}
		if attempt == webhookAttempts || ctx.Err() != nil {
			w.log.Warn("webhook not delivered", "attempts", attempt, "err", err)
			return
		}
		w.log.Debug("webhook failed, retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (w *webhooks) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, defaultWebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Pusher-Key", w.key)
	req.Header.Set("X-Pusher-Signature", hmacHex(w.secret, string(body)))
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	// Drained so the keep-alive connection can be reused for the next one.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64*1024))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post webhook: receiver answered %s", resp.Status)
	}
	return nil
}
