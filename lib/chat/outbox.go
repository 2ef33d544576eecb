package chat

// OutboxStore is the persistence of the redelivery-and-bridge work of issue 4; it grows with it.
type OutboxStore interface{}
