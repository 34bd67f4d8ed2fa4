package wal_test

import (
	"fmt"
	"testing"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/wal"
)

// TestMigrateOnItsOwn covers the changes that README's "On its own" list
// names and TestMigrate does not: a changed default, a dropped unique
// index, a primary key given to a table without one, a unique index and a
// primary key moved to other columns, checked against the stored rows;
// and one that the list leaves out and Open refuses, a list of float32
// made a list of float64.
func TestMigrateOnItsOwn(t *testing.T) {
	uniqueScore := with(base(), func(t *dynTable) {
		t.Indexes = append(t.Indexes, dynIndex{Name: "score", Cols: []string{"score"}, Unique: true})
	})
	set := dynTable{Name: "s", Cols: []dynCol{col("a", "string"), col("b", "int32")}}
	genSet := func(_ string, i int) []codec.Value {
		return []codec.Value{vs(fmt.Sprintf("a%02d", i)), vi("int32", int64(i%3))}
	}
	floats := dynTable{Name: "t", Cols: []dynCol{col("id", "uint64"), col("f", "[]float32")}, PK: []string{"id"},
		Seq: &dynSeq{Col: "id", Batch: 4}}
	genFloats := func(_ string, i int) []codec.Value {
		l, _ := codec.ListValue(codec.KindFloat32, []codec.Value{codec.Float32Value(float32(i) / 4)})
		return []codec.Value{vu("uint64", 0), l}
	}
	cases := []migCase{
		{name: "a changed default", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Cols[2].Default = "5" })},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeDefault},
			next: map[string]int64{"t": 41}, probe: probeBase},
		// A score already held is refused while the index is there, and
		// accepted once it is gone.
		{name: "a dropped unique index", v1: []dynTable{uniqueScore}, v2: []dynTable{base()},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.DropIndex},
			next: map[string]int64{"t": 41},
			probe: func(string) []codec.Value {
				return []codec.Value{vu("uint64", 0), vs("probe"), vi("int32", genBase("t", 1)[2].Int())}
			}},
		{name: "a primary key given to a set", v1: []dynTable{set},
			v2:  []dynTable{with(set, func(t *dynTable) { t.PK = []string{"a"} })},
			gen: genSet, steps: []wal.StepKind{wal.AddUnique, wal.DropIndex}},
		{name: "a unique index on other columns the rows break", v1: []dynTable{uniqueScore},
			v2:  []dynTable{with(uniqueScore, func(t *dynTable) { t.Indexes[1].Cols = []string{"name"} })},
			gen: genBase, update: updBase,
			refused: []string{"table t", "unique index t_score (name) does not hold", "rows (id=1) and (id=8) both hold name=\"n01\""}},
		{name: "a primary key on other columns the rows break", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.PK = []string{"name"} })},
			gen: genBase, update: updBase,
			refused: []string{"table t", "primary key t_pk (name) does not hold", "stored rows (id=1) and (id=8) both hold name=\"n01\""}},
		{name: "a list of float32 made a list of float64", v1: []dynTable{floats},
			v2:  []dynTable{with(floats, func(t *dynTable) { t.Cols[1] = col("f", "[]float64") })},
			gen: genFloats,
			refused: []string{"table t: column f retyped from []float32 ([]float32) to []float64 ([]float64)",
				"//keel:migrate function"}},
	}
	for _, c := range cases {
		for _, layout := range layouts {
			t.Run(c.name+"/"+layout, func(t *testing.T) { runMigration(t, c, layout) })
		}
	}
}
