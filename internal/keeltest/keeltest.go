// Package keeltest holds what the tests of Keel's examples share.
package keeltest

import (
	"errors"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
)

// Memory opens m in memory for the test t. When the test ends it checks
// that every index holds exactly the rows of the primary key, then closes
// the database.
func Memory(t testing.TB, m *keel.Module) *keel.DB {
	t.Helper()
	db, err := keel.OpenMemory(m, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, db)
	return db
}

// Open opens m in the data directory dir for the test t, with the same
// check and close at its end.
func Open(t testing.TB, dir string, m *keel.Module, o keel.Options) *keel.DB {
	t.Helper()
	db, err := keel.Open(dir, m, o)
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, db)
	return db
}

func cleanup(t testing.TB, db *keel.DB) {
	t.Cleanup(func() {
		if err := db.Check(); err != nil && !errors.Is(err, keel.ErrClosed) {
			t.Error(err)
		}
		db.Close()
	})
}

// Module is the keel.Module of the test module m.
func Module(m *testmod.Module) *keel.Module {
	return &keel.Module{Name: m.Name, Tables: m.Tables, Reducers: m.Reducers}
}
