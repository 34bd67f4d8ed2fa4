package main

import "fmt"

// The rows every system stores. Each workload writes and reads the same
// logical rows in every system; only the encoding differs.

// Event is the row of the insert workloads (W1, W2) and of the load
// workloads (W7, W8): an autoinc id and a 32-byte payload.
type Event struct {
	ID      uint64
	Payload string
}

// Account is the row of the transfer workload (W3).
type Account struct {
	ID      uint64
	Balance int64
}

// Item is the row of the read workloads (W4, W5): a primary key, a unique
// email and a non-unique indexed timestamp.
type Item struct {
	ID      uint64
	Email   string
	At      int64
	Payload string
}

// eventPayload is the payload of every row W1 and W2 insert.
const eventPayload = "0123456789abcdef0123456789abcdef"

// loadPayload is the payload of row i of W7 and W8: 32 bytes, distinct.
func loadPayload(i uint64) string { return fmt.Sprintf("event-payload-%018d", i) }

// itemRow is item i (1-based) as every system loads it. At is 3*i, so the
// range [3k, 3k+300) holds exactly 100 rows.
func itemRow(i uint64) Item {
	return Item{ID: i, Email: itemEmail(i), At: int64(3 * i), Payload: fmt.Sprintf("item-payload-%019d", i)}
}

func itemEmail(i uint64) string { return fmt.Sprintf("user%09d@example.com", i) }

// Transfer parameters: every account starts with initialBalance and a
// transfer moves 1..100, so the balance check always passes in these runs
// but is made every time.
const initialBalance = 1_000_000

// loadBatch is the number of rows per transaction when a workload loads
// its data set.
const loadBatch = 10_000
