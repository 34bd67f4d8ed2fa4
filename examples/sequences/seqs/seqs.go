// Package seqs shows sequences on small integer types: several autoinc
// columns on one table, each with its own sequence; a u8 sequence that
// counts down and wraps, another that wraps past 255; an i16 sequence
// below zero with a negative increment and nocycle; and values that
// continue past the persisted batch boundary when the database reopens.
package seqs

//go:generate go tool keelgen

// Spin has three autoinc columns; each insert advances all three.
//
//	ID    1, 2, 3, ...         batches of 4
//	Dial  3, 2, 1, 5, 4, 3 ... counts down through 1..5 and wraps
//	Lap   254, 255, 1, 2 ...   wraps past the top of uint8
//
//keel:table
type Spin struct {
	ID   uint64 `db:"pk,autoinc(batch=4)"`
	Dial uint8  `db:"autoinc(start=3,min=1,max=5,increment=-1,batch=2)"`
	Lap  uint8  `db:"autoinc(start=254,batch=2)"`
}

// Floor levels go down from -1 by 100 and stop: -1, -101, -201, then the
// sequence is exhausted.
//
//keel:table
type Floor struct {
	Level int16 `db:"pk,autoinc(min=-300,max=-1,increment=-100,nocycle,batch=1)"`
	Name  string
}

//keel:reducer
func AddSpin(ctx *Ctx) (Spin, error) {
	return ctx.DB.Spin().Insert(Spin{})
}

//keel:reducer
func AddFloor(ctx *Ctx, name string) (Floor, error) {
	return ctx.DB.Floor().Insert(Floor{Name: name})
}
