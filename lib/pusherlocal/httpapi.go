package pusherlocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits of Pusher's HTTP API.
const (
	maxTriggerChannels = 100
	maxBatchEvents     = 10
	maxEventDataBytes  = 10 * 1024
)

var socketIDPattern = regexp.MustCompile(`\A\d+\.\d+\z`)

// triggerRequest is the body of POST /apps/{id}/events, and one element of
// a batch (which names a single channel).
type triggerRequest struct {
	Name     string   `json:"name"`
	Data     *string  `json:"data"`
	Channels []string `json:"channels"`
	Channel  string   `json:"channel"`
	SocketID string   `json:"socket_id"`
	Info     string   `json:"info"`
}

// apiRequestError is a validation failure with the status Pusher uses.
type apiRequestError struct {
	status  int
	message string
}

func (e *apiRequestError) Error() string { return e.message }

func badRequest(format string, args ...any) *apiRequestError {
	return &apiRequestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// validate checks an event and returns the channels it goes to.
func (t triggerRequest) validate() ([]string, *apiRequestError) {
	if t.Name == "" {
		return nil, badRequest("Missing event name")
	}
	if n := utf8.RuneCountInString(t.Name); n > maxEventNameLength {
		return nil, badRequest("Event name is %d characters long, the limit is %d", n, maxEventNameLength)
	}
	if t.Data == nil {
		return nil, badRequest("Missing data")
	}
	if len(*t.Data) > maxEventDataBytes {
		return nil, &apiRequestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Event data is %d bytes, the limit is %d", len(*t.Data), maxEventDataBytes)}
	}
	channels := t.Channels
	if t.Channel != "" {
		channels = append([]string{t.Channel}, channels...)
	}
	if len(channels) == 0 {
		return nil, badRequest("Missing channels")
	}
	if len(channels) > maxTriggerChannels {
		return nil, badRequest("Too many channels: %d, the limit is %d", len(channels), maxTriggerChannels)
	}
	for _, ch := range channels {
		if err := validateChannelName(ch); err != nil {
			return nil, badRequest("Invalid channel name %q: %v", truncate(ch, maxChannelNameLength), err)
		}
	}
	if t.SocketID != "" && !socketIDPattern.MatchString(t.SocketID) {
		return nil, badRequest("Invalid socket_id %q", truncate(t.SocketID, 64))
	}
	return channels, nil
}

// infoAttributes parses "info": "user_count,subscription_count". user_count
// is only meaningful on presence channels, and Pusher refuses it elsewhere.
func infoAttributes(info string, channels []string) (userCount, subscriptionCount bool, err *apiRequestError) {
	for _, attr := range strings.Split(info, ",") {
		switch strings.TrimSpace(attr) {
		case "":
		case "user_count":
			userCount = true
		case "subscription_count":
			subscriptionCount = true
		default:
			return false, false, badRequest("Unsupported info attribute %q", truncate(attr, 64))
		}
	}
	if userCount {
		for _, ch := range channels {
			if kindOf(ch) != presenceChannel {
				return false, false, badRequest("user_count may only be requested for presence channels, not %s", ch)
			}
		}
	}
	return userCount, subscriptionCount, nil
}

// channelAttributes is the JSON of one channel's info in API answers.
type channelAttributes struct {
	Occupied          *bool `json:"occupied,omitempty"`
	UserCount         *int  `json:"user_count,omitempty"`
	SubscriptionCount *int  `json:"subscription_count,omitempty"`
}

func attributesOf(info channelInfo, userCount, subscriptionCount bool) channelAttributes {
	var a channelAttributes
	if userCount {
		a.UserCount = &info.UserCount
	}
	if subscriptionCount {
		a.SubscriptionCount = &info.SubscriptionCount
	}
	return a
}

func (s *Server) handleTriggerEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	var req triggerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
		return
	}
	var userCount, subscriptionCount bool
	channels, verr := req.validate()
	if verr == nil {
		userCount, subscriptionCount, verr = infoAttributes(req.Info, channels)
	}
	if verr != nil {
		apiError(w, verr.status, verr.message)
		return
	}

	s.publish(channels, req.Name, *req.Data, req.SocketID)

	if !userCount && !subscriptionCount {
		writeJSON(w, struct{}{})
		return
	}
	answer := map[string]channelAttributes{}
	for _, ch := range channels {
		answer[ch] = attributesOf(s.channelInfo(ch), userCount, subscriptionCount)
	}
	writeJSON(w, map[string]any{"channels": answer})
}

func (s *Server) handleTriggerBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Batch []triggerRequest `json:"batch"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
		return
	}
	if len(req.Batch) == 0 {
		apiError(w, http.StatusBadRequest, "Missing batch")
		return
	}
	if len(req.Batch) > maxBatchEvents {
		apiError(w, http.StatusBadRequest, fmt.Sprintf("Batch of %d events, the limit is %d", len(req.Batch), maxBatchEvents))
		return
	}
	// Validate everything first: a batch is refused whole, never half-sent.
	type validated struct {
		channel                      string
		userCount, subscriptionCount bool
	}
	events := make([]validated, len(req.Batch))
	anyInfo := false
	for i, e := range req.Batch {
		if len(e.Channels) > 0 || e.Channel == "" {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("Batch event %d must name exactly one channel", i))
			return
		}
		channels, verr := e.validate()
		if verr == nil {
			events[i].userCount, events[i].subscriptionCount, verr = infoAttributes(e.Info, channels)
		}
		if verr != nil {
			apiError(w, verr.status, fmt.Sprintf("Batch event %d: %s", i, verr.message))
			return
		}
		events[i].channel = channels[0]
		anyInfo = anyInfo || events[i].userCount || events[i].subscriptionCount
	}
	for i, e := range req.Batch {
		s.publish([]string{events[i].channel}, e.Name, *e.Data, e.SocketID)
	}
	if !anyInfo {
		writeJSON(w, struct{}{})
		return
	}
	answer := make([]channelAttributes, len(events))
	for i, e := range events {
		answer[i] = attributesOf(s.channelInfo(e.channel), e.userCount, e.subscriptionCount)
	}
	writeJSON(w, map[string]any{"batch": answer})
}

func (s *Server) handleListChannels(w http.ResponseWriter, r *http.Request, _ []byte) {
	prefix := r.URL.Query().Get("filter_by_prefix")
	userCount, subscriptionCount, verr := infoAttributes(r.URL.Query().Get("info"), nil)
	if verr == nil && userCount && !strings.HasPrefix(prefix, "presence-") {
		verr = badRequest("info=user_count requires filter_by_prefix=presence-")
	}
	if verr != nil {
		apiError(w, verr.status, verr.message)
		return
	}
	answer := map[string]channelAttributes{}
	for name, info := range s.occupiedChannels(prefix) {
		answer[name] = attributesOf(info, userCount, subscriptionCount)
	}
	writeJSON(w, map[string]any{"channels": answer})
}

func (s *Server) handleGetChannel(w http.ResponseWriter, r *http.Request, _ []byte) {
	name := r.PathValue("channel")
	if err := validateChannelName(name); err != nil {
		apiError(w, http.StatusBadRequest, "Invalid channel name: "+err.Error())
		return
	}
	userCount, subscriptionCount, verr := infoAttributes(r.URL.Query().Get("info"), []string{name})
	if verr != nil {
		apiError(w, verr.status, verr.message)
		return
	}
	info := s.channelInfo(name)
	a := attributesOf(info, userCount, subscriptionCount)
	a.Occupied = &info.Occupied
	writeJSON(w, a)
}

func (s *Server) handleGetChannelUsers(w http.ResponseWriter, r *http.Request, _ []byte) {
	name := r.PathValue("channel")
	if err := validateChannelName(name); err != nil {
		apiError(w, http.StatusBadRequest, "Invalid channel name: "+err.Error())
		return
	}
	if kindOf(name) != presenceChannel {
		apiError(w, http.StatusBadRequest, "Users can only be listed for presence channels")
		return
	}
	type user struct {
		ID string `json:"id"`
	}
	users := []user{}
	for _, id := range s.presenceUserIDs(name) {
		users = append(users, user{id})
	}
	writeJSON(w, map[string]any{"users": users})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; nothing left to tell it.
		return
	}
}
