package table

import (
	"strings"
	"testing"
)

// TestReadOtherDefOtherShape: Read with another module's Def whose
// position in this database holds a table of another row type, or no
// table at all, panics naming the table, as for one of the same row type.
// (Use keeps its plain type assertion: it is inlined into every generated
// table accessor, at the edge of the inlining budget.)
func TestReadOtherDefOtherShape(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{}) // user is table 0, tag table 1
	theirs := itemDef()
	far := itemDef()
	// far takes position 3, beyond this database's tables.
	a, b, c := ledgerDef(), ledgerDef(), ledgerDef()
	a.Name, b.Name, c.Name = "a", "b", "c"
	far.Name = "far"
	if _, err := newDB(a, b, c, far); err != nil {
		t.Fatal(err)
	}
	if _, err := newDB(theirs); err != nil {
		t.Fatal(err)
	}
	says := func(name string, fn func()) {
		t.Helper()
		defer func() {
			t.Helper()
			v := recover()
			err, _ := v.(error)
			if err == nil || !strings.Contains(err.Error(), "table "+name+" is not a table of this database") {
				t.Errorf("%s: panic %v", name, v)
			}
		}()
		fn()
	}
	v := must(f.db.view())
	says("item", func() { Read(v, theirs) })
	says("far", func() { Read(v, far) })
}
