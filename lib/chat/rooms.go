package chat

// RoomStore is the persistence of the rooms work of issue 4; it grows with it.
type RoomStore interface{}
