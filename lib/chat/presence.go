package chat

// PresenceStore is the persistence of the presence work of issue 4; it grows with it.
type PresenceStore interface{}
