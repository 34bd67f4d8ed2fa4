package keel_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/kinds"
)

// TestReadRowsOwnTheirMemory: a row the generated accessors hand out
// (read in a view, or returned by a reducer's Insert) shares no memory
// with the stored row, whatever its bytes and slice columns: changing
// every element of one in place leaves what a later view reads as it was
// stored.
func TestReadRowsOwnTheirMemory(t *testing.T) {
	db := keeltest.Open(t, t.TempDir(), kinds.Module, keel.Options{})
	c := kinds.NewClient(db, "t")
	spoil := func(r kinds.Sample) {
		r.Bytes[0], r.Ints[0], r.Texts[0], r.Times[0], r.Labels[0] = 9, 9, "spoilt", time.Unix(9, 0).UTC(), "spoilt"
	}
	row := func() kinds.Sample {
		return kinds.Sample{Text: "a", Bytes: []byte{1, 2}, Ints: []int64{3, 4},
			Texts: []string{"x", "y"}, Times: []time.Time{time.Unix(5, 0).UTC()}, Labels: []kinds.Label{"l"}}
	}
	stored, err := c.Put(t.Context(), row())
	if err != nil {
		t.Fatal(err)
	}
	want := row() // shares nothing with what Put returned, which is a row handed out too
	want.ID = stored.ID
	spoil(stored)
	read := func(how string) kinds.Sample {
		v, err := c.View(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		switch how {
		case "all":
			rows := slices.Collect(v.Sample().All())
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			return rows[0]
		default:
			r, ok := v.Sample().Find(stored.ID)
			if !ok {
				t.Fatalf("row %d not found", stored.ID)
			}
			return r
		}
	}
	for _, how := range []string{"all", "find"} {
		spoil(read(how))
		if got := read(how); !reflect.DeepEqual(got, want) {
			t.Errorf("after a row read by %s was changed in place, the stored row reads\n%#v\nwant\n%#v", how, got, want)
		}
	}
}
