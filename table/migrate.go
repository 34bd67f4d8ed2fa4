package table

import "github.com/keeldb/keel/internal/kerr"

// Migration is a module's migration function for one table, marked
// //keel:migrate: it turns a row stored in an older shape of the table
// into a row of the table's current shape. Opening a data directory whose
// table still has the old shape runs it on every row (see package wal).
// keelgen generates one with NewMigration for each //keel:migrate
// function.
type Migration interface {
	// Info describes the migration: its table, its function and the
	// columns of the old shape.
	Info() MigrationInfo
	// Migrate decodes old, a row of the old shape, runs the function and
	// appends the encoding of the row it returns to dst.
	Migrate(dst, old []byte) ([]byte, error)
}

// MigrationInfo describes a migration function, for plans and tools.
type MigrationInfo struct {
	Table string
	Func  string
	// Old is the old shape's columns in their stored order: the
	// migration applies to a stored table with exactly these names and
	// kinds.
	Old []Column
}

// NewMigration describes the migration function fn, named name, from
// rows of type O (the old shape, whose columns are old and whose rows
// decode reads) to rows of table d. fn must be a pure function of its
// argument: it may run on several goroutines at once, and again on the
// same rows when a crash interrupts the migration. The row it returns is
// stored as it is: autoinc columns are not filled.
func NewMigration[O, R any](d *Def[R], name string, old []Column, decode func(src []byte, o *O) error,
	fn func(O) (R, error)) Migration {
	return &migration[O, R]{d: d, info: MigrationInfo{Table: d.Name, Func: name, Old: old}, decode: decode, fn: fn}
}

type migration[O, R any] struct {
	d      *Def[R]
	info   MigrationInfo
	decode func([]byte, *O) error
	fn     func(O) (R, error)
}

func (m *migration[O, R]) Info() MigrationInfo { return m.info }

func (m *migration[O, R]) Migrate(dst, old []byte) ([]byte, error) {
	var o O
	if err := m.decode(old, &o); err != nil {
		return dst, kerr.Errorf("keel: migration %s of table %s: a stored row does not decode as the old shape: %w: %w",
			m.info.Func, m.info.Table, ErrCorruptState, err)
	}
	r, err := m.fn(o)
	if err != nil {
		return dst, kerr.Errorf("keel: migration %s of table %s: %w", m.info.Func, m.info.Table, err)
	}
	if m.d.Normalize != nil {
		m.d.Normalize(&r)
	}
	return m.d.Encode(dst, &r), nil
}
