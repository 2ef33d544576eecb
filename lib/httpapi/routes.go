package httpapi

import (
	"net/http"
	"slices"
	"time"
)

// Route is one path of the API with a handler per method. api/ has one file
// per Route, and `chatwire serve` mounts every Route of Routes.
type Route struct {
	// Name is the Go identifier of the Route variable; the api/ test checks it.
	Name string
	Path string
	// Methods maps an HTTP method to the maker of its handler.
	Methods map[string]func(*Deps) http.Handler
	// Public routes take no user JWT (they check their own secret, or none).
	Public bool
	// Timeout is the handler's deadline; 0 means DefaultTimeout.
	Timeout time.Duration
	// VercelFile is the function that serves a Path with a {parameter}:
	// vercel.json rewrites the Path to it with the parameter in the query.
	VercelFile string
}

// DefaultTimeout is a handler's deadline, under Vercel's default 10 s maxDuration.
const DefaultTimeout = 8 * time.Second

// The routes of API.md.
var (
	Send       = &Route{Name: "Send", Path: "/api/messages/send", Methods: post(handleSend)}
	History    = &Route{Name: "History", Path: "/api/messages/history", Methods: get(handleHistory)}
	Poll       = &Route{Name: "Poll", Path: "/api/messages/poll", Methods: get(handlePoll)}
	Read       = &Route{Name: "Read", Path: "/api/messages/read", Methods: post(handleRead)}
	Typing     = &Route{Name: "Typing", Path: "/api/typing", Methods: post(handleTyping)}
	PusherAuth = &Route{Name: "PusherAuth", Path: "/api/pusher/auth", Methods: post(handlePusherAuth)}
	Health     = &Route{Name: "Health", Path: "/api/health", Methods: get(handleHealth), Public: true}

	Rooms = &Route{Name: "Rooms", Path: "/api/rooms", Methods: map[string]func(*Deps) http.Handler{
		http.MethodGet: handleListRooms, http.MethodPost: handleCreateRoom}}
	JoinRoom    = &Route{Name: "JoinRoom", Path: "/api/rooms/join", Methods: post(handleJoinRoom)}
	LeaveRoom   = &Route{Name: "LeaveRoom", Path: "/api/rooms/leave", Methods: post(handleLeaveRoom)}
	Preferences = &Route{Name: "Preferences", Path: "/api/notifications/preferences", Methods: map[string]func(*Deps) http.Handler{
		http.MethodGet: handleGetPreferences, http.MethodPut: handlePutPreferences}}
	Presence        = &Route{Name: "Presence", Path: "/api/presence", Methods: get(handlePresence)}
	PusherWebhook   = &Route{Name: "PusherWebhook", Path: "/api/pusher/webhook", Methods: post(handlePusherWebhook), Public: true}
	DatabaseWebhook = &Route{Name: "DatabaseWebhook", Path: "/api/webhooks/database", Methods: post(handleDatabaseWebhook), Public: true}
	Conversations   = &Route{Name: "Conversations", Path: "/api/conversations", Methods: get(handleConversations)}
	Edit            = &Route{Name: "Edit", Path: "/api/messages/edit", Methods: post(handleEdit)}
	Delete          = &Route{Name: "Delete", Path: "/api/messages/delete", Methods: post(handleDelete)}
	React           = &Route{Name: "React", Path: "/api/messages/react", Methods: post(handleReact)}
	CronOutbox      = &Route{Name: "CronOutbox", Path: "/api/cron/outbox", Methods: get(handleCronOutbox), Public: true, Timeout: 25 * time.Second}

	Attachments    = &Route{Name: "Attachments", Path: "/api/attachments", Methods: post(handleRequestUpload)}
	AttachmentFile = &Route{Name: "AttachmentFile", Path: "/api/attachments/{id}", Methods: get(handleAttachmentFile),
		VercelFile: "/api/attachments/file"}
)

// Routes lists every route; the order is the order of the docs.
func Routes() []*Route {
	return []*Route{
		Send, History, Poll, Read, Typing, PusherAuth, Health,
		Rooms, JoinRoom, LeaveRoom, Preferences,
		Presence, PusherWebhook, DatabaseWebhook, CronOutbox,
		Attachments, AttachmentFile,
		Conversations, Edit, Delete, React,
	}
}

// NewHandler serves every route on one mux: the `serve` and `dev` commands.
func NewHandler(d *Deps) http.Handler {
	mux := http.NewServeMux()
	for _, route := range Routes() {
		mux.Handle(route.Path, route.Handler(d))
	}
	mux.Handle("/api/", withRequestID(withAccessLog(d.Log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, d.Log, apiError(http.StatusNotFound, "not_found", "no such route"))
	}))))
	return mux
}

// FunctionPath is the path of the api/ file that serves the route on Vercel.
func (rt *Route) FunctionPath() string {
	if rt.VercelFile != "" {
		return rt.VercelFile
	}
	return rt.Path
}

// AllowedMethods lists the route's methods, sorted, as the Allow header says them.
func (rt *Route) AllowedMethods() []string {
	methods := make([]string, 0, len(rt.Methods)+1)
	for m := range rt.Methods {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	return methods
}

func post(make func(*Deps) http.Handler) map[string]func(*Deps) http.Handler {
	return map[string]func(*Deps) http.Handler{http.MethodPost: make}
}

func get(make func(*Deps) http.Handler) map[string]func(*Deps) http.Handler {
	return map[string]func(*Deps) http.Handler{http.MethodGet: make}
}
