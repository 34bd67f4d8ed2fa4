// Package kinds is a module with a column of every type Keel stores, and
// fields it does not store, for the tests that check a row reads the same
// before and after a reopen.
package kinds

import "time"

//go:generate go tool keelgen

// Level is a defined type over an integer column.
type Level int16

// Label is a defined type over a string column.
type Label string

// Sample holds one column of every kind.
//
//keel:table
type Sample struct {
	ID      uint64 `db:"pk,autoinc"`
	Bool    bool
	Int     int
	Int8    int8
	Int16   int16
	Int32   int32
	Int64   int64
	Uint    uint
	Uint8   uint8
	Uint16  uint16
	Uint32  uint32
	Float32 float32
	Float64 float64
	Text    string `db:"index"`
	Bytes   []byte
	At      time.Time
	Level   Level
	Label   Label
	Ints    []int64
	Texts   []string
	Times   []time.Time
	Labels  []Label
	Cache   map[string]int `db:"-"`
	Note    string         `db:"-"`
}

// Put stores r as given: its id is generated when 0.
//
//keel:reducer
func Put(ctx *Ctx, r Sample) (Sample, error) { return ctx.DB.Sample().Insert(r) }

// Replace updates the row with r's id.
//
//keel:reducer
func Replace(ctx *Ctx, r Sample) (Sample, error) { return ctx.DB.Sample().Update(r) }
