package wal_test

import (
	"testing"

	"github.com/keeldb/keel/wal"
)

// TestMigrateCyclingSequenceWraps: a cycling sequence whose values so far
// end inside its new range, at its end (an exhausted nocycle sequence
// made cycling, a cycling one whose range shrank to the values used),
// wraps around to the start of its range, skipping the ids still stored
// (1 to 4; 5 was deleted), as a nocycle one is exhausted there; the
// migration is not refused as a sequence moving back.
func TestMigrateCyclingSequenceWraps(t *testing.T) {
	exh := with(base(), func(t *dynTable) { t.Seq.Max, t.Seq.NoCycle = i64(migRows), true })
	cases := []migCase{
		{name: "an exhausted sequence made cycling", v1: []dynTable{exh},
			v2:  []dynTable{with(exh, func(t *dynTable) { t.Seq.NoCycle = false })},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			next: map[string]int64{"t": 5}, probe: probeBase},
		{name: "a cycling sequence's range shrunk to the values used", v1: []dynTable{base()},
			v2:  []dynTable{with(base(), func(t *dynTable) { t.Seq.Max = i64(migRows) })},
			gen: genBase, update: updBase, steps: []wal.StepKind{wal.ChangeSequence},
			next: map[string]int64{"t": 5}, probe: probeBase},
	}
	for _, c := range cases {
		for _, layout := range layouts {
			t.Run(c.name+"/"+layout, func(t *testing.T) { runMigration(t, c, layout) })
		}
	}
}
