// Package keeltest holds what the tests of Keel's examples share.
package keeltest

import (
	"errors"
	"sync"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
)

// Memory opens m in memory for the test t. When the test ends it checks
// that every index holds exactly the rows of the primary key, then closes
// the database. A test that closes the database itself does so with
// Close, which checks it first; one closed otherwise fails at its end,
// as its indexes would go unchecked.
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

// checked holds the databases Close checked and closed.
var checked sync.Map // *keel.DB → struct{}

func cleanup(t testing.TB, db *keel.DB) {
	t.Cleanup(func() {
		_, closed := checked.LoadAndDelete(db)
		if closed {
			return
		}
		if err := db.Check(); errors.Is(err, keel.ErrClosed) {
			t.Error("keeltest: the database was closed without keeltest.Close, so its indexes went unchecked")
		} else if err != nil {
			t.Error(err)
		}
		db.Close()
	})
}

// Close checks that every index of db holds exactly the rows of the
// primary key, failing t if not, then closes db and returns what Close
// returned.
func Close(t testing.TB, db *keel.DB) error {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Errorf("keeltest: before the close: %v", err)
	}
	checked.Store(db, struct{}{})
	return db.Close()
}

// Module is the keel.Module of the test module m.
func Module(m *testmod.Module) *keel.Module {
	return &keel.Module{Name: m.Name, Tables: m.Tables, Reducers: m.Reducers}
}
