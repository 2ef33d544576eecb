package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatwire/chatwire/lib/chat"
)

const roomColumns = `id, name, visibility, created_by, created_at`

// createRoomSQL inserts the room and its creator's membership in one
// statement: the membership needs the generated id, and the membership
// trigger (user-joined) fires at the end of the statement, when the room row
// the foreign key checks exists.
const createRoomSQL = `WITH room AS (
  INSERT INTO rooms (name, visibility, created_by) VALUES ($1::text, $2::text, $3::text)
  RETURNING ` + roomColumns + `
), member AS (
  INSERT INTO room_members (room_id, user_id, joined_at)
  SELECT id, created_by, created_at FROM room
)
SELECT ` + roomColumns + ` FROM room`

// CreateRoom stores a room with its creator as the first member and returns
// it with the user-joined event, in one batch: one round trip, one implicit
// transaction (see InsertMessage).
func (db *DB) CreateRoom(ctx context.Context, creator chat.User, r chat.NewRoom) (created chat.CreatedRoom, err error) {
	if err := checkText("name", r.Name, "sender", creator.ID, "name", creator.Name); err != nil {
		return chat.CreatedRoom{}, err
	}
	b := &pgx.Batch{}
	// No room yet: upsertSenderSQL records the name without locking the users row.
	b.Queue(upsertSenderSQL, creator.ID, nullable(creator.Name), nil)
	b.Queue(createRoomSQL, r.Name, r.Visibility, creator.ID)
	b.Queue(ownEventsSQL)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: create room: %w", cerr)
		}
	}()
	if _, err := br.Exec(); err != nil {
		return created, fmt.Errorf("store: create room: record creator: %w", err)
	}
	var row roomRow
	if err := br.QueryRow().Scan(row.dest()...); err != nil {
		return created, fmt.Errorf("store: create room: %w", err)
	}
	created.Room = row.room()
	created.Room.Member = true
	if created.Events, err = collectEvents(br.Query()); err != nil {
		return created, fmt.Errorf("store: create room: read events: %w", err)
	}
	return created, nil
}

// listRoomsSQL takes the user's rooms and the newest public rooms, each side
// bounded by the limit and served by its index (room_members_user,
// rooms_public, or rooms_public_name with a prefix), then orders the union:
// the user's rooms first, so that many newer public rooms never push them
// out of the list. Keyset paging: $3 is the cursor's section (NULL: from the
// start; true: within the user's rooms; false: within the public ones) and
// ($4, $5) its (created_at, id). $6 is a LIKE pattern on lower(name) ('%'
// for every room).
const listRoomsSQL = `SELECT ` + roomColumns + `, member FROM (
  (SELECT r.id, r.name, r.visibility, r.created_by, r.created_at, true AS member
   FROM room_members m JOIN rooms r ON r.id = m.room_id
   WHERE m.user_id = $1::text
     AND ($3::boolean IS NULL OR ($3::boolean AND (r.created_at, r.id) < ($4::timestamptz, $5::text)))
     AND lower(r.name) LIKE $6::text
   ORDER BY r.created_at DESC, r.id DESC LIMIT $2)
  UNION ALL
  (SELECT r.id, r.name, r.visibility, r.created_by, r.created_at, false
   FROM rooms r
   WHERE r.visibility = 'public'
     AND ($3::boolean IS NULL OR $3::boolean OR (r.created_at, r.id) < ($4::timestamptz, $5::text))
     AND lower(r.name) LIKE $6::text
     AND NOT EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1::text)
   ORDER BY r.created_at DESC, r.id DESC LIMIT $2)
) AS listed
ORDER BY member DESC, created_at DESC, id DESC
LIMIT $2`

// ListRooms returns up to q.Limit rooms after q.After: the user's, then the
// public ones the user is not in, newest first within each.
func (db *DB) ListRooms(ctx context.Context, q chat.RoomQuery) ([]chat.Room, error) {
	if q.Limit < 1 {
		return nil, chat.FieldError("limit", "must be at least 1")
	}
	if err := checkText("sender", q.UserID, "prefix", q.Prefix); err != nil {
		return nil, err
	}
	var (
		section   *bool
		createdAt *time.Time
		id        *string
	)
	if q.After != nil {
		section, createdAt, id = &q.After.Member, &q.After.CreatedAt, &q.After.ID
	}
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, listRoomsSQL, q.UserID, q.Limit, section, createdAt, id, likePrefix(q.Prefix))
	if err != nil {
		return nil, fmt.Errorf("store: list rooms: %w", err)
	}
	defer rows.Close()
	var rooms []chat.Room
	for rows.Next() {
		var (
			row    roomRow
			member bool
		)
		if err := rows.Scan(append(row.dest(), &member)...); err != nil {
			return nil, fmt.Errorf("store: list rooms: %w", err)
		}
		r := row.room()
		r.Member = member
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list rooms: %w", err)
	}
	return rooms, nil
}

// likePrefix is the LIKE pattern matching lower-cased names that start with
// prefix, any case, its wildcard characters taken literally.
func likePrefix(prefix string) string {
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(prefix))
	return escaped + "%"
}

// mayJoin is the join rule, over rooms r with $1 the room, $2 the user who
// joins and $3 the actor: the creator may add anyone, anyone else may only
// join a public room themselves.
const mayJoin = `(r.created_by = $3::text OR ($2::text = $3::text AND r.visibility = 'public'))`

// The joiner's display name is recorded only for a join that will happen: a
// refused or repeated join writes nothing. A creator adding someone else does
// not know their name; the trigger then falls back to what users holds.
const joinNameSQL = `INSERT INTO users (id, name)
SELECT $2::text, $4::text FROM rooms r
WHERE r.id = $1::text AND $2::text = $3::text AND ` + mayJoin + `
  AND NOT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1::text AND user_id = $2::text)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
WHERE EXCLUDED.name IS NOT NULL AND users.name IS DISTINCT FROM EXCLUDED.name`

// joinSQL inserts the membership when the rule allows it. A repeated join
// conflicts; DO UPDATE ... WHERE false then updates nothing, returns nothing
// and fires no row trigger, but it locks the existing row until commit, so
// joinStateSQL still sees it even if a concurrent leave is under way (DO
// NOTHING would not lock it). The statement trigger writes user-joined for
// inserted rows only.
//
// $4 caps the members (0: no cap). joinLockSQL, earlier in the same
// transaction, serializes the joins of one room, so this statement's count
// (taken after the lock, in a snapshot of its own) sees every committed
// join and concurrent joins cannot overshoot the cap.
//
// A member added by someone else records the adder in added_by: being added
// is not consent, so the room does not show their status to the others
// (schema 010) until they join themselves (acceptSQL).
const joinSQL = `INSERT INTO room_members (room_id, user_id, added_by)
SELECT r.id, $2::text, CASE WHEN $2::text <> $3::text THEN $3::text END FROM rooms r
WHERE r.id = $1::text AND ` + mayJoin + `
  AND ($4::int = 0 OR (SELECT count(*) FROM room_members c WHERE c.room_id = $1::text) < $4::int)
ON CONFLICT (room_id, user_id) DO UPDATE SET joined_at = room_members.joined_at WHERE false
RETURNING joined_at`

// acceptSQL is an added member joining the room themselves: their
// acceptance. Clearing added_by lets the room show their status, and the
// room_members_accepted trigger tells the other members their current status.
// For anyone else (a self-joined member, a non-member, a creator adding) it
// updates nothing and sends nothing.
const acceptSQL = `UPDATE room_members SET added_by = NULL
WHERE room_id = $1::text AND user_id = $2::text AND $2::text = $3::text AND added_by IS NOT NULL`

// joinLockSQL takes the room's row lock that joins queue on. FOR NO KEY
// UPDATE does not block the foreign-key checks (KEY SHARE) of messages and
// memberships written to the room meanwhile.
const joinLockSQL = `SELECT 1 FROM rooms WHERE id = $1::text AND $2::int > 0 FOR NO KEY UPDATE`

// joinStateSQL tells apart an unknown room, a refusal, an existing member
// and a full room.
const joinStateSQL = `SELECT ` + mayJoin + `, m.joined_at,
       $4::int > 0 AND (SELECT count(*) FROM room_members c WHERE c.room_id = $1::text) >= $4::int
FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $2::text
WHERE r.id = $1::text`

// JoinRoom makes userID a member of the room on behalf of actor, in one
// batch: one round trip, one implicit transaction (see InsertMessage).
func (db *DB) JoinRoom(ctx context.Context, actor chat.User, roomID, userID string, maxMembers int) (m chat.Membership, err error) {
	if err := checkText("room_id", roomID, "user_id", userID, "sender", actor.ID, "name", actor.Name); err != nil {
		return chat.Membership{}, err
	}
	b := &pgx.Batch{}
	b.Queue(joinLockSQL, roomID, maxMembers)
	b.Queue(joinNameSQL, roomID, userID, actor.ID, nullable(actor.Name))
	b.Queue(acceptSQL, roomID, userID, actor.ID)
	b.Queue(joinSQL, roomID, userID, actor.ID, maxMembers)
	b.Queue(ownEventsSQL)
	b.Queue(joinStateSQL, roomID, userID, actor.ID, maxMembers)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: join room: %w", cerr)
		}
	}()
	m.Member = chat.Member{RoomID: roomID, UserID: userID}
	if _, err := br.Exec(); err != nil {
		return m, fmt.Errorf("store: join room: lock: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return m, fmt.Errorf("store: join room: record name: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return m, fmt.Errorf("store: join room: accept: %w", err)
	}
	err = br.QueryRow().Scan(&m.Member.JoinedAt)
	switch {
	case err == nil:
		m.Joined = true
	case !errors.Is(err, pgx.ErrNoRows):
		return m, fmt.Errorf("store: join room: %w", err)
	}
	if m.Events, err = collectEvents(br.Query()); err != nil {
		return m, fmt.Errorf("store: join room: read events: %w", err)
	}
	if m.Joined {
		return m, nil
	}
	var (
		allowed, full bool
		since         *time.Time
	)
	err = br.QueryRow().Scan(&allowed, &since, &full)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return m, notFound("room_id", "room not found")
	case err != nil:
		return m, fmt.Errorf("store: join room: %w", err)
	case since != nil && userID == actor.ID:
		// Joining again answers one's own membership, whatever the rule
		// would say today (a member of a private room is not its creator).
		m.Member.JoinedAt = *since
		return m, nil
	case !allowed && userID != actor.ID:
		return m, forbidden("user_id", "only the room's creator may add members")
	case !allowed:
		return m, forbidden("room_id", "a private room is joined by invitation of its creator")
	case since == nil && full:
		msg := fmt.Sprintf("the room is full: at most %d members", maxMembers)
		return m, &chat.Error{Code: chat.ECONFLICT, Message: msg, Fields: map[string]string{"room_id": msg}}
	case since == nil:
		// Allowed yet neither inserted nor found: the membership vanished
		// between the statements, which the row lock rules out; say so
		// rather than answer with a member that does not exist.
		return m, fmt.Errorf("store: join room: membership neither inserted nor found")
	}
	m.Member.JoinedAt = *since
	return m, nil
}

// leaveSQL removes the membership (the statement trigger writes user-left)
// and tells whether the room exists and whether anything was removed. now()
// is the transaction's time, the same the trigger writes as left_at.
const leaveSQL = `WITH gone AS (
  DELETE FROM room_members WHERE room_id = $1::text AND user_id = $2::text RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1::text), EXISTS (SELECT 1 FROM gone), now()`

// LeaveRoom removes the user from the room and returns the user-left event,
// in one batch: one round trip, one implicit transaction.
func (db *DB) LeaveRoom(ctx context.Context, roomID, userID string) (d chat.Departure, err error) {
	if err := checkText("room_id", roomID, "user_id", userID); err != nil {
		return chat.Departure{}, err
	}
	b := &pgx.Batch{}
	b.Queue(leaveSQL, roomID, userID)
	b.Queue(ownEventsSQL)

	ctx, cancel := db.deadline(ctx)
	defer cancel()
	br := db.pool.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: leave room: %w", cerr)
		}
	}()
	var exists bool
	if err := br.QueryRow().Scan(&exists, &d.Left, &d.LeftAt); err != nil {
		return d, fmt.Errorf("store: leave room: %w", err)
	}
	if d.Events, err = collectEvents(br.Query()); err != nil {
		return d, fmt.Errorf("store: leave room: read events: %w", err)
	}
	if !exists {
		return chat.Departure{}, notFound("room_id", "room not found")
	}
	return d, nil
}

// roomRow is one row of roomColumns.
type roomRow struct {
	id, name, visibility, createdBy string
	createdAt                       time.Time
}

func (r *roomRow) dest() []any {
	return []any{&r.id, &r.name, &r.visibility, &r.createdBy, &r.createdAt}
}

func (r *roomRow) room() chat.Room {
	return chat.Room{ID: r.id, Name: r.name, Visibility: r.visibility, CreatedBy: r.createdBy, CreatedAt: r.createdAt}
}
