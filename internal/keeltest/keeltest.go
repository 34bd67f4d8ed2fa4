// Package keeltest holds what the tests of Keel's examples share.
package keeltest

import (
	"testing"

	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
)

// Runtime opens m in memory for the test t. When the test ends it checks
// that every index holds exactly the rows of the primary key, then closes
// the runtime.
func Runtime(t testing.TB, m *runtime.Module) *runtime.Runtime {
	t.Helper()
	rt, err := runtime.Open(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Locked(func(db *table.DB) error { return db.Check() }); err != nil {
			t.Error(err)
		}
		rt.Close()
	})
	return rt
}
