package keel_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidwall/btree"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kinds"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// event is the benchmark row: an autoinc primary key and a payload, so
// that Keel's insert and the raw B-tree's Set store the same thing.
type event struct {
	ID      uint64
	Payload string
}

var eventPK = &table.Index[event]{Name: "event_pk", Columns: []string{"id"}, Unique: true,
	Compare: func(a, b *event, n int) int { return cmp.Compare(a.ID, b.ID) },
	Format:  func(r *event, n int) string { return fmt.Sprint("id=", r.ID) },
	Key:     func(r *event) uint64 { return table.KeyUint(r.ID) }, KeyExact: true}

func eventModule() (*keel.Module, *table.Def[event], *reducer.Func[string, uint64]) {
	d := &table.Def[event]{Name: "event", Primary: eventPK,
		Columns:   []table.Column{{Name: "id", Type: "uint64"}, {Name: "payload", Type: "string"}},
		Sequences: []table.AutoInc[event]{table.NewAutoInc("event_id_seq", "id", table.SeqParams[uint64]{}, func(r *event) *uint64 { return &r.ID })},
		Encode: func(dst []byte, r *event) []byte {
			return codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Payload)
		},
		Decode: func(src []byte, r *event) error {
			d := codec.NewReader(src)
			r.ID, r.Payload = d.Uvarint(), d.Text()
			return d.Err()
		}}
	add := reducer.New("Add", func(c *reducer.Ctx, payload string) (uint64, error) {
		e, err := table.Use(c.Tx, d).Insert(event{Payload: payload})
		return e.ID, err
	}, reducer.Codec[string]{}, reducer.Codec[uint64]{})
	m := &keel.Module{Name: "bench", Tables: []table.Schema{d}, Reducers: []*reducer.Def{&add.Def}}
	return m, d, add
}

func rawTree() *btree.BTreeG[*event] {
	return btree.NewBTreeGOptions(func(a, b *event) bool { return a.ID < b.ID }, btree.Options{NoLocks: true, Degree: 32})
}

// BenchmarkInsert: one-row autoinc insert through the front door (one
// reducer call, one transaction, in memory) beside a raw BTreeG.Set of the
// same row.
func BenchmarkInsert(b *testing.B) {
	b.Run("keel-runtime", func(b *testing.B) {
		m, _, add := eventModule()
		db, err := keel.OpenMemory(m, keel.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keel.Run(ctx, db, "", add, "payload"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("btree-set", func(b *testing.B) {
		tr := rawTree()
		var id uint64
		b.ReportAllocs()
		for b.Loop() {
			id++
			tr.Set(&event{ID: id, Payload: "payload"})
		}
	})
}

const loaded = 100_000

func loadEvents(b *testing.B) (*keel.DB, *table.Def[event], *btree.BTreeG[*event]) {
	m, d, _ := eventModule()
	rt, err := keel.OpenMemory(m, keel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	err = rt.Update(context.Background(), "", func(c *reducer.Ctx) error {
		for range loaded {
			if _, err := table.Use(c.Tx, d).Insert(event{Payload: "payload"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	tr := rawTree()
	for i := range uint64(loaded) {
		tr.Set(&event{ID: i + 1, Payload: "payload"})
	}
	return rt, d, tr
}

// BenchmarkFind: a find by primary key in a table of 100,000 rows, through
// a view, beside a raw BTreeG.Get.
func BenchmarkFind(b *testing.B) {
	rt, d, tr := loadEvents(b)
	defer rt.Close()
	v, err := rt.View(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	r := table.Read(v, d)
	b.Run("keel-find", func(b *testing.B) {
		var id uint64
		for b.Loop() {
			id = id*7 + 13
			if _, ok := r.Get(event{ID: id%loaded + 1}); !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("btree-get", func(b *testing.B) {
		var id uint64
		for b.Loop() {
			id = id*7 + 13
			if _, ok := tr.Get(&event{ID: id%loaded + 1}); !ok {
				b.Fatal("missing")
			}
		}
	})
}

// BenchmarkRange100: a 100-row range scan over the primary key beside a
// raw BTreeG.Ascend of 100 items.
func BenchmarkRange100(b *testing.B) {
	rt, d, tr := loadEvents(b)
	defer rt.Close()
	v, err := rt.View(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	r := table.Read(v, d)
	b.Run("keel-scan", func(b *testing.B) {
		var start uint64
		for b.Loop() {
			start = (start + 997) % (loaded - 200)
			n := 0
			for range r.Scan(eventPK, table.Incl(event{ID: start + 1}, 0), table.Excl(event{ID: start + 101}, 0)) {
				n++
			}
			if n != 100 {
				b.Fatal(n)
			}
		}
	})
	b.Run("btree-ascend", func(b *testing.B) {
		var start uint64
		for b.Loop() {
			start = (start + 997) % (loaded - 200)
			n := 0
			tr.Ascend(&event{ID: start + 1}, func(e *event) bool {
				if e.ID >= start+101 {
					return false
				}
				n++
				return true
			})
			if n != 100 {
				b.Fatal(n)
			}
		}
	})
}

// BenchmarkSequenceNext: the next value of a sequence (batches of the
// default size) beside a plain counter increment.
func BenchmarkSequenceNext(b *testing.B) {
	b.Run("keel-next", func(b *testing.B) {
		s, err := table.NewSequence("t", "s", table.SeqParams[uint64]{})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, _, err := s.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("counter", func(b *testing.B) {
		var c uint64
		for b.Loop() {
			c++
		}
		sink = c
	})
}

var sink uint64

// BenchmarkNormalize inserts a row of every column type (internal/kinds)
// inside one transaction, with the generated Normalize and without it:
// the cost of storing rows in their decoded form (times in UTC, slices
// copied, fields not stored zeroed).
func BenchmarkNormalize(b *testing.B) {
	for _, on := range []bool{true, false} {
		b.Run(fmt.Sprint("normalize=", on), func(b *testing.B) {
			norm := kinds.SampleDef.Normalize
			if !on {
				kinds.SampleDef.Normalize = nil
				defer func() { kinds.SampleDef.Normalize = norm }()
			}
			db, err := keel.OpenMemory(kinds.Module, keel.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			row := kinds.Sample{Text: "t", Bytes: []byte{1, 2, 3}, At: time.Now(), Ints: []int64{1, 2},
				Texts: []string{"a", "b"}, Times: []time.Time{time.Now()}, Note: "n"}
			b.ReportAllocs()
			db.Update(context.Background(), "", func(c *reducer.Ctx) error {
				t := kinds.DBOf(c.Tx).Sample()
				for b.Loop() {
					if _, err := t.Insert(row); err != nil {
						b.Fatal(err)
					}
				}
				return errors.New("roll back")
			})
		})
	}
}
