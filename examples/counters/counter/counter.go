// Package counter is DynamoDB's counter table as a Keel module. DynamoDB
// has no auto-increment, so a counter row is incremented atomically
// (SET counter_value = counter_value + :incr, returning UPDATED_NEW) and
// its new value used as the key of a row in the main table. In Keel both
// happen in one reducer, so they commit together or not at all.
package counter

import (
	"errors"
	"fmt"
)

//go:generate go tool keelgen

// Global is the counter AddItem draws its ids from.
const Global = "global_counter"

// Counter is DynamoDB's CounterTable: counter_id and counter_value.
//
//keel:table
type Counter struct {
	CounterID    string `db:"pk"`
	CounterValue int64
}

// Item is DynamoDB's MainTable, keyed by the counter's new value.
//
//keel:table
type Item struct {
	ID          int64 `db:"pk"`
	Name        string
	Description string
}

// Setup creates the global counter at 0, once, when the database is new.
//
//keel:reducer init
func Setup(ctx *Ctx) error {
	_, err := ctx.DB.Counter().Insert(Counter{CounterID: Global})
	return err
}

// increment adds incr to the counter and returns its new value: the
// UPDATED_NEW of DynamoDB's update-item.
func increment(db DB, id string, incr int64) (int64, error) {
	c, ok := db.Counter().Find(id)
	if !ok {
		return 0, fmt.Errorf("counter: no counter %q", id)
	}
	c.CounterValue += incr
	if _, err := db.Counter().Update(c); err != nil {
		return 0, err
	}
	return c.CounterValue, nil
}

// Increment adds incr to the named counter and returns its new value.
//
//keel:reducer
func Increment(ctx *Ctx, counterID string, incr int64) (int64, error) {
	return increment(ctx.DB, counterID, incr)
}

// ErrNoName is returned by AddItem for an item without a name, after the
// counter moved: the counter moves back with the rollback.
var ErrNoName = errors.New("counter: an item needs a name")

// AddItem increments the global counter and inserts the item under the new
// value, atomically.
//
//keel:reducer
func AddItem(ctx *Ctx, name, description string) (Item, error) {
	id, err := increment(ctx.DB, Global, 1)
	if err != nil {
		return Item{}, err
	}
	if name == "" {
		return Item{}, ErrNoName
	}
	return ctx.DB.Item().Insert(Item{ID: id, Name: name, Description: description})
}
