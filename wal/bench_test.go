package wal_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Event is the row of the benchmarks' one-table module: an autoinc
// primary key and a value, so that the figures measure the log more than
// the indexes.
type Event struct {
	ID    uint64
	Value int64
}

var eventPK = &table.Index[Event]{Name: "event_pk", Columns: []string{"id"}, Unique: true,
	Compare: func(a, b *Event, n int) int { return cmp.Compare(a.ID, b.ID) },
	Format:  func(r *Event, n int) string { return fmt.Sprintf("id=%d", r.ID) },
	Key:     func(r *Event) uint64 { return table.KeyUint(r.ID) }, KeyExact: true}

// eventModule builds the module: table event and reducer Add, which
// inserts one event and returns it.
func eventModule() (*keel.Module, *table.Def[Event], *reducer.Func[int64, Event]) {
	def := &table.Def[Event]{
		Name:      "event",
		Columns:   []table.Column{{Name: "id", Type: "uint64"}, {Name: "value", Type: "int64"}},
		Primary:   eventPK,
		Sequences: []table.AutoInc[Event]{table.NewAutoInc("event_id_seq", "id", table.SeqParams[uint64]{}, func(r *Event) *uint64 { return &r.ID })},
		Encode: func(dst []byte, r *Event) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Value)
		},
		Decode: func(src []byte, r *Event) error {
			d := codec.NewReader(src)
			r.ID, r.Value = d.Uvarint(), d.Varint()
			return d.Err()
		},
	}
	add := reducer.New("Add", func(c *reducer.Ctx, v int64) (Event, error) {
		return table.Use(c.Tx, def).Insert(Event{Value: v})
	}, reducer.Codec[int64]{}, reducer.Codec[Event]{})
	return &keel.Module{Name: "bench", Tables: []table.Schema{def}, Reducers: []*reducer.Def{&add.Def}}, def, add
}

// BenchmarkRawFsync is the baseline: one small write and one fsync per
// transaction, in the same directory kind the databases use.
func BenchmarkRawFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, 48)
	start := time.Now()
	var synced time.Duration
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		synced += time.Since(t0)
	}
	b.ReportMetric(float64(synced.Microseconds())/float64(b.N), "µs/fsync")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
	b.ReportMetric(1, "fsyncs/tx")
}

// rawFsyncRate runs n write+fsync pairs on a new file beside the database
// and returns their rate: the baseline of one fsync per transaction,
// measured just before and after each durable run so that the ratio
// compares the disk in the same state.
func rawFsyncRate(b *testing.B, n int) float64 {
	f, err := os.CreateTemp(b.TempDir(), "raw")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, 48)
	start := time.Now()
	for range n {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkDurableInsert inserts one row per transaction through the Add
// reducer, each acknowledged after fsync, from 1 and 64 concurrent
// callers. One iteration is one acknowledged transaction. The 64 callers
// are RunParallel's goroutines (32 per GOMAXPROCS on this 2-core machine),
// which count their calls with an atomic counter, not a channel.
func BenchmarkDurableInsert(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			m, _, addFn := eventModule()
			d, err := keel.Open(b.TempDir(), m, keel.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			add := func(v int64) {
				if _, err := keel.Run(ctx, d, "bench", addFn, v); err != nil {
					panic(err)
				}
			}
			add(0) // warm up
			raw := rawFsyncRate(b, 100)
			s0 := d.Stats().Log
			start := time.Now()
			if callers == 1 {
				for i := 0; b.Loop(); i++ {
					add(int64(i))
				}
			} else {
				b.SetParallelism(max(1, callers/goruntime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						add(1)
					}
				})
			}
			el := time.Since(start)
			s1 := d.Stats().Log
			raw = (raw + rawFsyncRate(b, 100)) / 2
			b.ReportMetric(float64(b.N)/el.Seconds(), "tx/s")
			b.ReportMetric(float64(b.N)/el.Seconds()/raw, "x-raw-fsync")
			b.ReportMetric(float64(s1.Syncs-s0.Syncs)/float64(s1.Entries-s0.Entries), "fsyncs/tx")
			b.ReportMetric(float64((s1.SyncTime-s0.SyncTime).Microseconds())/float64(s1.Syncs-s0.Syncs), "µs/fsync")
		})
	}
}

// BenchmarkGroupCommit is the floor under BenchmarkDurableInsert's 64
// callers: group commit with nothing else, in the same shape as the log's
// (a caller that finds no flush running writes and fsyncs everything
// queued, callers arriving meanwhile wait on a channel that the flush after
// closes), on a preallocated file, with 48-byte records and no tables,
// transactions, encoding or checksums. One iteration is one record
// acknowledged after its fsync. Its x-raw-fsync is what this machine allows
// 64 goroutines that each wait for their own fsync, before any database
// work.
func BenchmarkGroupCommit(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "group"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 64<<20)); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	g := &groupCommit{f: f}
	raw := rawFsyncRate(b, 100)
	rec := make([]byte, 48)
	start := time.Now()
	b.SetParallelism(max(1, 64/goruntime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := g.commit(rec); err != nil {
				panic(err)
			}
		}
	})
	el := time.Since(start)
	raw = (raw + rawFsyncRate(b, 100)) / 2
	b.ReportMetric(float64(b.N)/el.Seconds(), "tx/s")
	b.ReportMetric(float64(b.N)/el.Seconds()/raw, "x-raw-fsync")
	b.ReportMetric(float64(g.syncs)/float64(b.N), "fsyncs/tx")
}

// groupCommit is BenchmarkGroupCommit's log: records go into buf, and the
// caller that leads a flush writes buf at off and fsyncs it.
type groupCommit struct {
	mu               sync.Mutex
	f                *os.File
	buf, spare       []byte
	off              int64
	appended, synced uint64
	flushing         bool
	next             chan struct{} // closed when the next flush is done
	syncs            int
}

func (g *groupCommit) commit(rec []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf = append(g.buf, rec...)
	g.appended++
	mine := g.appended
	for g.synced < mine {
		if g.flushing {
			if g.next == nil {
				g.next = make(chan struct{})
			}
			ch := g.next
			g.mu.Unlock()
			<-ch
			g.mu.Lock()
			continue
		}
		// Lead: take everything queued, write and fsync it unlocked.
		g.flushing = true
		buf, last, off := g.buf, g.appended, g.off
		g.buf, g.off = g.spare[:0], off+int64(len(buf))
		g.mu.Unlock()
		_, err := g.f.WriteAt(buf, off)
		if err == nil {
			err = g.f.Sync()
		}
		g.mu.Lock()
		g.spare, g.flushing = buf, false
		g.synced = last
		g.syncs++
		// Everyone waiting wakes: the covered return, one of the rest leads.
		if g.next != nil {
			close(g.next)
			g.next = nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// replayDir writes rows rows, perTx to a transaction, with SyncNever (the
// log is the same; only writing it is faster), and a snapshot at the end
// when asked.
func replayDir(b *testing.B, mod *keel.Module, insert func(c *reducer.Ctx, j int) error, rows, perTx int, snapshot bool) string {
	dir := b.TempDir()
	d, err := keel.Open(dir, mod, keel.Options{Sync: keel.SyncNever, SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < rows; i += perTx {
		err := d.Update(ctx, "bench", func(c *reducer.Ctx) error {
			for j := i; j < i+perTx && j < rows; j++ {
				if err := insert(c, j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if snapshot {
		if err := d.Snapshot(); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkReplay opens a data directory of 200k rows: from the log alone
// (1 and 100 rows per transaction) and from a snapshot, for the event
// table (primary key only) and the post table (primary key, a unique and
// a non-unique index). One iteration is one Open.
func BenchmarkReplay(b *testing.B) {
	const rows = 200_000
	type table_ struct {
		name   string
		mod    func() *keel.Module
		insert func(mod *keel.Module) func(c *reducer.Ctx, j int) error
	}
	tables := []table_{
		{"event", func() *keel.Module { m, _, _ := eventModule(); return m }, func(m *keel.Module) func(*reducer.Ctx, int) error {
			def := m.Tables[0].(*table.Def[Event])
			return func(c *reducer.Ctx, j int) error {
				_, err := table.Use(c.Tx, def).Insert(Event{Value: int64(j)})
				return err
			}
		}},
		{"post", func() *keel.Module { return keeltest.Module(testmod.New(table.SeqParams[uint64]{})) }, func(m *keel.Module) func(*reducer.Ctx, int) error {
			def := m.Tables[0].(*table.Def[testmod.Post])
			return func(c *reducer.Ctx, j int) error {
				_, err := table.Use(c.Tx, def).Insert(testmod.Post{Slug: fmt.Sprintf("post-%08d", j),
					Author: fmt.Sprintf("author-%d", j%1000), Title: "a title of some length"})
				return err
			}
		}},
	}
	for _, tb := range tables {
		for _, c := range []struct {
			name     string
			perTx    int
			snapshot bool
		}{{"log/rows-per-tx=1", 1, false}, {"log/rows-per-tx=100", 100, false}, {"snapshot", 100, true}} {
			b.Run(tb.name+"/"+c.name, func(b *testing.B) {
				m := tb.mod()
				dir := replayDir(b, m, tb.insert(m), rows, c.perTx, c.snapshot)
				start, cpu0 := time.Now(), cpuTime()
				for b.Loop() {
					d, err := keel.Open(dir, tb.mod(), keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
					if err != nil {
						b.Fatal(err)
					}
					if got := d.Recovery().Rows; got < rows {
						b.Fatalf("replayed %d rows", got)
					}
					if err := d.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
				b.ReportMetric(float64(rows)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
			})
		}
	}
}
