package chat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the rooms contract (API.md).
const (
	MaxRoomNameChars = 100
	// MaxListedRooms bounds one page of GET /api/rooms (and is its default
	// size): the caller's rooms first, then public rooms, newest first
	// within each; next_cursor continues.
	MaxListedRooms = 200
	// MaxRoomPrefixChars bounds GET /api/rooms?prefix=.
	MaxRoomPrefixChars = 100
)

// Room visibilities: anyone may join a public room; only its creator adds
// members to a private one.
const (
	RoomPublic  = "public"
	RoomPrivate = "private"
)

// RoomStore is the persistence of rooms. Each change is one transaction and
// returns the events the triggers wrote in it, for the caller to publish.
type RoomStore interface {
	// CreateRoom stores a room and its creator as its first member.
	CreateRoom(ctx context.Context, creator User, r NewRoom) (CreatedRoom, error)
	// ListRooms returns up to q.Limit rooms after q.After in the listing
	// order: the user's, then public ones, newest first within each, with
	// Member set; with q.Prefix only rooms whose name starts with it (any
	// case).
	ListRooms(ctx context.Context, q RoomQuery) ([]Room, error)
	// JoinRoom makes userID a member on behalf of actor. Anyone may join a
	// public room themselves; only the creator may add a member to a private
	// room or add someone else to any room (EFORBIDDEN otherwise); an unknown
	// room is ENOTFOUND; a room that already has maxMembers members (0: no
	// cap) is ECONFLICT. An existing member is returned with Joined false and
	// no events, and nothing is written, except for a member someone else
	// added who now joins themselves: that accepts the membership, which
	// makes their status visible to the room (schema 010), and the events
	// tell the other members their current status.
	JoinRoom(ctx context.Context, actor User, roomID, userID string, maxMembers int) (Membership, error)
	// LeaveRoom removes the user from the room. Left is false, with no events,
	// when the user was not a member; an unknown room is ENOTFOUND.
	LeaveRoom(ctx context.Context, roomID, userID string) (Departure, error)
}

// Room is a group conversation on channel private-room-{enc(id)}.
type Room struct {
	ID         string
	Name       string
	Visibility string
	CreatedBy  string
	CreatedAt  time.Time
	// Member says whether the caller belongs to the room.
	Member bool
}

// MarshalJSON writes the API.md Room object plus the caller's "member" flag.
func (r Room) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Visibility string `json:"visibility"`
		CreatedBy  string `json:"created_by"`
		CreatedAt  string `json:"created_at"`
		Member     bool   `json:"member"`
	}{r.ID, r.Name, r.Visibility, r.CreatedBy, FormatTime(r.CreatedAt), r.Member})
}

// RoomQuery selects a page of GET /api/rooms.
type RoomQuery struct {
	UserID string
	Prefix string
	After  *RoomCursor // nil: from the start
	Limit  int
}

// RoomCursor is a position in the rooms listing: the last room of a page.
type RoomCursor struct {
	Member    bool
	CreatedAt time.Time
	ID        string
}

// String encodes the cursor for clients, who treat it as opaque.
func (c RoomCursor) String() string {
	m := "0"
	if c.Member {
		m = "1"
	}
	raw := m + "." + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseRoomCursor reads a cursor written by RoomCursor.String.
func ParseRoomCursor(s string) (RoomCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return RoomCursor{}, FieldError("cursor", "not a cursor of this listing")
	}
	parts := strings.SplitN(string(raw), ".", 3)
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") || parts[2] == "" || !utf8.ValidString(parts[2]) {
		return RoomCursor{}, FieldError("cursor", "not a cursor of this listing")
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return RoomCursor{}, FieldError("cursor", "not a cursor of this listing")
	}
	return RoomCursor{Member: parts[0] == "1", CreatedAt: time.UnixMicro(us).UTC(), ID: parts[2]}, nil
}

// Member is one user's membership of a room.
type Member struct {
	RoomID   string
	UserID   string
	JoinedAt time.Time
}

// MarshalJSON writes the API.md member object.
func (m Member) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		RoomID   string `json:"room_id"`
		UserID   string `json:"user_id"`
		JoinedAt string `json:"joined_at"`
	}{m.RoomID, m.UserID, FormatTime(m.JoinedAt)})
}

// NewRoom is a room as its creator described it, validated.
type NewRoom struct {
	Name       string
	Visibility string
}

// CreatedRoom is the outcome of RoomStore.CreateRoom.
type CreatedRoom struct {
	Room   Room
	Events []Event
}

// Membership is the outcome of RoomStore.JoinRoom.
type Membership struct {
	Member Member
	// Joined is false when the user already was a member: nothing changed,
	// unless an added member accepted (see RoomStore.JoinRoom).
	Joined bool
	Events []Event
}

// Departure is the outcome of RoomStore.LeaveRoom.
type Departure struct {
	// Left is false when the user was not a member: nothing changed.
	Left   bool
	LeftAt time.Time
	Events []Event
}

// CreateRoomInput is the body of POST /api/rooms.
type CreateRoomInput struct {
	Name       string `json:"name"`
	Visibility string `json:"visibility"`
}

// RoomAnswer is the answer of CreateRoom.
type RoomAnswer struct {
	Room Room `json:"room"`
}

// ListRoomsInput is the query of GET /api/rooms.
type ListRoomsInput struct {
	Cursor string
	Prefix string
	Limit  int
}

// RoomList is the answer of ListRooms.
type RoomList struct {
	Rooms []Room `json:"rooms"`
	// NextCursor continues the listing; nil on the last page.
	NextCursor *string `json:"next_cursor"`
}

// JoinRoomInput is the body of POST /api/rooms/join. UserID, when set to
// someone else, adds that user; only the room's creator may.
type JoinRoomInput struct {
	RoomID string `json:"room_id" validate:"required,max=150"`
	UserID string `json:"user_id" validate:"max=150"`
}

// JoinAnswer is the answer of JoinRoom.
type JoinAnswer struct {
	Member Member `json:"member"`
	// Joined is false when the user already was a member and nothing was
	// sent, unless an added member accepted (see RoomStore.JoinRoom).
	Joined bool `json:"joined"`
}

// LeaveRoomInput is the body of POST /api/rooms/leave.
type LeaveRoomInput struct {
	RoomID string `json:"room_id" validate:"required,max=150"`
}

// LeaveAnswer is the answer of LeaveRoom.
type LeaveAnswer struct {
	// Left is false when the caller was not a member: nothing was sent.
	Left   bool    `json:"left"`
	LeftAt *string `json:"left_at,omitempty"`
}

// CreateRoom stores a room with the creator as its first member and
// publishes the creator's user-joined.
func (s *Service) CreateRoom(ctx context.Context, creator User, in CreateRoomInput) (RoomAnswer, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := validateRoom(&in); err != nil {
		return RoomAnswer{}, err
	}
	if err := s.checkActionRate(ctx, ActionRoomCreate, "rooms created", creator, s.limits.RoomCreate); err != nil {
		return RoomAnswer{}, err
	}
	created, err := s.store.CreateRoom(ctx, creator, NewRoom{Name: in.Name, Visibility: in.Visibility})
	if err != nil {
		return RoomAnswer{}, err
	}
	s.publish(ctx, created.Events)
	return RoomAnswer{Room: created.Room}, nil
}

func validateRoom(in *CreateRoomInput) error {
	switch n := utf8.RuneCountInString(in.Name); {
	case !utf8.ValidString(in.Name):
		return FieldError("name", "must be valid UTF-8")
	case n == 0:
		return FieldError("name", "required")
	case n > MaxRoomNameChars:
		return FieldError("name", "at most 100 characters")
	}
	switch in.Visibility {
	case "":
		in.Visibility = RoomPublic
	case RoomPublic, RoomPrivate:
	default:
		return FieldError("visibility", "must be public or private")
	}
	return nil
}

// ListRooms returns a page of the caller's rooms, then public rooms (each
// marked with whether the caller is a member), optionally only those whose
// name starts with in.Prefix, any case. Pages hold in.Limit rooms (default
// and at most MaxListedRooms); NextCursor continues, so no fixed cut-off
// hides a room.
func (s *Service) ListRooms(ctx context.Context, user User, in ListRoomsInput) (RoomList, error) {
	q := RoomQuery{UserID: user.ID, Prefix: in.Prefix, Limit: in.Limit}
	switch {
	case q.Limit == 0:
		q.Limit = MaxListedRooms
	case q.Limit < 0 || q.Limit > MaxListedRooms:
		return RoomList{}, FieldError("limit", fmt.Sprintf("1 to %d", MaxListedRooms))
	}
	if !utf8.ValidString(in.Prefix) || strings.ContainsRune(in.Prefix, 0) {
		return RoomList{}, FieldError("prefix", "must be valid UTF-8 without NUL")
	}
	if utf8.RuneCountInString(in.Prefix) > MaxRoomPrefixChars {
		return RoomList{}, FieldError("prefix", fmt.Sprintf("at most %d characters", MaxRoomPrefixChars))
	}
	if in.Cursor != "" {
		c, err := ParseRoomCursor(in.Cursor)
		if err != nil {
			return RoomList{}, err
		}
		q.After = &c
	}
	// One more than a page tells whether another page follows.
	want := q.Limit
	q.Limit++
	rooms, err := s.store.ListRooms(ctx, q)
	if err != nil {
		return RoomList{}, err
	}
	list := RoomList{Rooms: rooms}
	if len(rooms) > want {
		list.Rooms = rooms[:want]
		last := list.Rooms[want-1]
		next := RoomCursor{Member: last.Member, CreatedAt: last.CreatedAt, ID: last.ID}.String()
		list.NextCursor = &next
	}
	if list.Rooms == nil {
		list.Rooms = []Room{}
	}
	return list, nil
}

// JoinRoom makes the caller (or, for the room's creator, in.UserID) a member
// and publishes user-joined. Joining again changes and sends nothing, except
// that an added member's own join accepts the membership and publishes their
// status to the room's members.
func (s *Service) JoinRoom(ctx context.Context, user User, in JoinRoomInput) (JoinAnswer, error) {
	if err := s.check(in); err != nil {
		return JoinAnswer{}, err
	}
	if err := checkRoomID(in.RoomID); err != nil {
		return JoinAnswer{}, err
	}
	target := user.ID
	if in.UserID != "" {
		target = in.UserID
	}
	// A member's id goes into the channels their status changes reach: one
	// Pusher cannot name would make those events undeliverable.
	if len(PresenceChannel(target)) > MaxChannelLength {
		field := "user_id"
		if in.UserID == "" {
			field = "sub"
		}
		return JoinAnswer{}, FieldError(field, "user id too long for a channel name")
	}
	if target != user.ID && s.limits.RoomAdd.Enabled() {
		// Adding others is what makes a room's cost grow with its size. A
		// repeated add of a member adds no one and spends nothing (dev's demo
		// repeats its adds at every start).
		member, err := s.store.IsRoomMember(ctx, in.RoomID, target)
		if err != nil {
			return JoinAnswer{}, err
		}
		if !member {
			if err := s.checkActionRate(ctx, ActionRoomAdd, "users added to rooms", user, s.limits.RoomAdd); err != nil {
				return JoinAnswer{}, err
			}
		}
	}
	m, err := s.store.JoinRoom(ctx, user, in.RoomID, target, s.limits.RoomMaxMembers)
	if err != nil {
		return JoinAnswer{}, err
	}
	s.publish(ctx, m.Events)
	return JoinAnswer{Member: m.Member, Joined: m.Joined}, nil
}

// LeaveRoom removes the caller from a room and publishes user-left. Leaving
// a room one is not in is not an error, so a retried leave succeeds; it
// answers Left false and sends nothing.
func (s *Service) LeaveRoom(ctx context.Context, user User, in LeaveRoomInput) (LeaveAnswer, error) {
	if err := s.check(in); err != nil {
		return LeaveAnswer{}, err
	}
	if err := checkRoomID(in.RoomID); err != nil {
		return LeaveAnswer{}, err
	}
	d, err := s.store.LeaveRoom(ctx, in.RoomID, user.ID)
	if err != nil {
		return LeaveAnswer{}, err
	}
	if !d.Left {
		return LeaveAnswer{Left: false}, nil
	}
	s.publish(ctx, d.Events)
	at := FormatTime(d.LeftAt)
	return LeaveAnswer{Left: true, LeftAt: &at}, nil
}

// checkRoomID refuses ids that cannot name a Pusher channel, before any query.
func checkRoomID(id string) error {
	if len(RoomChannel(id)) > MaxChannelLength {
		return FieldError("room_id", "room id too long for a channel name")
	}
	return nil
}
