package wal

import (
	"strings"
	"testing"

	"github.com/keeldb/keel/table"
)

// TestDiffTableNamesTheColumnChange: two descriptions of a table that
// differ only in a column's default (or its kind) name that column and
// change, not a reordering of the same columns; the text is what a
// ForeignError's Diff says.
func TestDiffTableNamesTheColumnChange(t *testing.T) {
	tbl := func(def, kind string) table.TableInfo {
		return table.TableInfo{Name: "t",
			Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "s", Type: "string", Kind: kind, Default: def}},
			Indexes: []table.IndexInfo{{Name: "t_pk", Columns: []string{"id"}, Unique: true, Primary: true}}}
	}
	cases := []struct {
		name string
		o, c table.TableInfo
		want string
	}{
		{"a default set", tbl("", "string"), tbl(`"x"`, "string"), `column s: default changed from the zero value to "x"`},
		{"a default changed", tbl(`"x"`, "string"), tbl(`"y"`, "string"), `column s: default changed from "x" to "y"`},
		{"a kind given", tbl("", ""), tbl("", "string"), "column s: kind changed from no kind to string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := diffTable(c.o, c.c); got != c.want {
				t.Errorf("diffTable: %q, want %q", got, c.want)
			}
			err := diffSchema([]table.TableInfo{c.o}, []table.TableInfo{c.c})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "reordered") {
				t.Errorf("diffSchema: %v, want it to say %q", err, c.want)
			}
		})
	}
	if got := diffTable(tbl(`"x"`, "string"), tbl(`"x"`, "string")); got != "" {
		t.Errorf("diffTable of the same table: %q", got)
	}
}
