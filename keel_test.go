package keel_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/kinds"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// open opens the test module (sequence batch 2, so that boundaries move
// often) in dir.
func open(t *testing.T, dir string, o keel.Options) (*keel.DB, *testmod.Module) {
	t.Helper()
	m := testmod.New(table.SeqParams[uint64]{Batch: 2})
	return keeltest.Open(t, dir, keeltest.Module(m), o), m
}

func add(t *testing.T, db *keel.DB, m *testmod.Module, slug string) testmod.Post {
	t.Helper()
	p, err := keel.Run(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: slug})
	if err != nil {
		t.Fatalf("AddPost %s: %v", slug, err)
	}
	return p
}

func postIDs(t *testing.T, db *keel.DB, m *testmod.Module) map[string]uint64 {
	t.Helper()
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for p := range table.Read(v, m.Post).All() {
		out[p.Slug] = p.ID
	}
	return out
}

// TestManagedTransactions: nothing a reducer can reach commits, rolls
// back or replays a transaction. The transaction's exported methods and
// the reducer context's fields are the whole of what it reaches.
func TestManagedTransactions(t *testing.T) {
	methods := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumMethod() {
			out = append(out, typ.Method(i).Name)
		}
		return out
	}
	if got := methods(&table.Tx{}); !slices.Equal(got, []string{"ID"}) {
		t.Errorf("table.Tx exports %v; a reducer may only learn its id", got)
	}
	if got := methods(&table.DB{}); !slices.Equal(got, []string{"Schemas", "SequenceStates"}) {
		t.Errorf("table.DB exports %v", got)
	}
	var fields []string
	ct := reflect.TypeOf(reducer.Ctx{})
	for i := range ct.NumField() {
		fields = append(fields, ct.Field(i).Name)
	}
	if want := []string{"Tx", "Caller", "Time", "Rand", "Log", "Reducer"}; !slices.Equal(fields, want) {
		t.Errorf("reducer.Ctx has fields %v, want %v", fields, want)
	}
	if got := methods(&reducer.Ctx{}); len(got) != 0 {
		t.Errorf("reducer.Ctx has methods %v", got)
	}
}

// TestNoIDReusedAfterReopen is the scenario of a reducer that committed
// its own transaction: with a batch of 2, inserts and rolled-back inserts
// move the boundary often, and after every reopen the sequence resumes
// past every id a committed post holds.
func TestNoIDReusedAfterReopen(t *testing.T) {
	dir := t.TempDir()
	used := map[uint64]string{}
	for round := range 5 {
		db, m := open(t, dir, keel.Options{})
		for i := range 7 {
			slug := fmt.Sprintf("r%d-%d", round, i)
			p := add(t, db, m, slug)
			if other, ok := used[p.ID]; ok {
				t.Fatalf("id %d handed to %s after %s", p.ID, slug, other)
			}
			used[p.ID] = slug
			if i%3 == 0 {
				if _, err := keel.Run(t.Context(), db, "t", m.Fail, fmt.Sprintf("f%d-%d", round, i)); err == nil {
					t.Fatal("Fail committed")
				}
			}
		}
		for slug, id := range postIDs(t, db, m) {
			if slug != "hello" && used[id] != slug {
				t.Fatalf("post %s has id %d, handed to %s", slug, id, used[id])
			}
		}
		if err := keeltest.Close(t, db); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCancelled: a call whose context is done before it runs never runs.
func TestCancelled(t *testing.T) {
	db, m := open(t, t.TempDir(), keel.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := keel.Run(ctx, db, "t", m.AddPost, testmod.AddPostArgs{Slug: "no"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	if _, ok := postIDs(t, db, m)["no"]; ok {
		t.Fatal("a cancelled call ran")
	}
	mem := keeltest.Memory(t, keeltest.Module(m))
	if _, err := keel.Run(ctx, mem, "t", m.AddPost, testmod.AddPostArgs{Slug: "no"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call in memory: %v", err)
	}
}

// TestForeignReducer: a typed call of another module's reducer fails.
func TestForeignReducer(t *testing.T) {
	db, _ := open(t, t.TempDir(), keel.Options{})
	other := testmod.New(table.SeqParams[uint64]{})
	if _, err := keel.Run(t.Context(), db, "t", other.AddPost, testmod.AddPostArgs{Slug: "x"}); !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("call of another module's reducer: %v", err)
	}
	f := keel.Go(t.Context(), db, "t", other.AddPost, testmod.AddPostArgs{Slug: "x"})
	if _, err := f.Wait(t.Context()); !errors.Is(err, reducer.ErrUnknownReducer) {
		t.Fatalf("async call of another module's reducer: %v", err)
	}
}

// TestFuturesInOrder keeps calls in flight from one goroutine: they finish
// in submission order with increasing ids, and each is durable when its
// future is done.
func TestFuturesInOrder(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	var fs []keel.Future[testmod.Post]
	for i := range 200 {
		fs = append(fs, keel.Go(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("f", i)}))
	}
	var last uint64
	for i, f := range fs {
		p, err := f.Wait(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if p.ID <= last || p.Slug != fmt.Sprint("f", i) {
			t.Fatalf("future %d: %+v after id %d", i, p, last)
		}
		last = p.ID
	}
	if n := len(postIDs(t, db, m)); n != 201 {
		t.Fatalf("%d posts, want 201", n)
	}
}

// fullDisk mounts a tmpfs of size bytes for the test, or skips.
func fullDisk(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (a full disk)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestFullDisk fills a small filesystem: the call that does not fit fails,
// every later call fails, and no caller, view or listener ever saw a post
// that is not there after reopening.
func TestFullDisk(t *testing.T) {
	dir := filepath.Join(fullDisk(t, 256<<10), "db")
	db, m := open(t, dir, keel.Options{SegmentSize: 64 << 10, SnapshotEvery: -1, SnapshotBytes: -1})
	var mu sync.Mutex
	seen := map[string]string{}
	saw := func(slug, who string) {
		mu.Lock()
		if _, ok := seen[slug]; !ok {
			seen[slug] = who
		}
		mu.Unlock()
	}
	db.OnCommit(func(c *table.Commit) {
		for _, ch := range table.ChangesOf(c, m.Post) {
			saw(ch.New.Slug, "a listener")
		}
	})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := db.View(context.Background())
			if err != nil {
				return
			}
			for p := range table.Read(v, m.Post).All() {
				saw(p.Slug, "a view")
			}
		}
	})
	var writers sync.WaitGroup
	var failed []error
	for g := range 4 {
		writers.Go(func() {
			for i := 0; i < 1e6; i++ {
				slug := fmt.Sprintf("g%d-%05d-%s", g, i, strings.Repeat("x", 200))
				if _, err := keel.Run(context.Background(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: slug}); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					return
				}
				saw(slug, "its caller")
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	for _, err := range failed {
		if !errors.Is(err, keel.ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("a call on a full disk failed with %v", err)
		}
	}
	if len(failed) != 4 {
		t.Fatalf("%d of the 4 writers failed", len(failed))
	}
	if db.Failure() == nil {
		t.Fatal("the database has no failure after the disk filled")
	}
	// A call after the failure fails too, though it would fit now.
	if _, err := keel.Run(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: "later"}); !errors.Is(err, keel.ErrFailed) {
		t.Fatalf("a call after the disk filled: %v, want ErrFailed", err)
	}
	// Views after the failure show only what is durable.
	after := postIDs(t, db, m)
	keeltest.Close(t, db)
	db2, m2 := open(t, dir, keel.Options{SegmentSize: 64 << 10})
	there := postIDs(t, db2, m2)
	if _, ok := there["later"]; ok {
		t.Error("the call refused after the failure is there after reopening")
	}
	for slug := range after {
		if _, ok := there[slug]; !ok {
			t.Errorf("a view after the failure shows %.12s, which is not there after reopening", slug)
		}
	}
	for slug, who := range seen {
		if _, ok := there[slug]; !ok {
			t.Errorf("%s saw %.12s, which is not there after reopening", who, slug)
		}
	}
	t.Logf("%d posts seen before the disk filled, %d after reopening", len(seen), len(there))
}

// twinPost is a row of twin's post table.
type twinPost struct {
	ID   uint64
	Rank int64
}

// twin is a module with a post table of other columns than testmod's.
func twin() (*keel.Module, *reducer.Func[twinPost, struct{}]) {
	type post = twinPost
	pk := &table.Index[post]{Name: "post_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *post, _ int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *post, _ int) string { return fmt.Sprint("id=", r.ID) }}
	def := &table.Def[post]{Name: "post", Primary: pk,
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "rank", Type: "int64", Kind: "int64"}},
		Encode: func(dst []byte, r *post) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Rank)
		},
		Decode: func(src []byte, r *post) error {
			d := codec.NewReader(src)
			r.ID, r.Rank = d.Uvarint(), d.Varint()
			return d.Err()
		}}
	put := reducer.New("Put", func(c *reducer.Ctx, p post) (struct{}, error) {
		_, err := table.Use(c.Tx, def).Insert(p)
		return struct{}{}, err
	}, reducer.Codec[post]{}, reducer.Codec[struct{}]{})
	return &keel.Module{Name: "twin", Tables: []table.Schema{def}, Reducers: []*reducer.Def{&put.Def}}, put
}

// TestForeignData copies a snapshot and then a log segment of another
// module's database, whose post table has other columns, into a data
// directory: open refuses each, naming the file and the difference.
func TestForeignData(t *testing.T) {
	theirs := t.TempDir()
	tm, put := twin()
	tdb, err := keel.Open(theirs, tm, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := keel.Run(t.Context(), tdb, "", put, twinPost{ID: uint64(i + 1), Rank: -int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tdb.Snapshot(); err != nil {
		t.Fatal(err)
	}
	tdb.Close()

	ours := t.TempDir()
	db, m := open(t, ours, keel.Options{})
	add(t, db, m, "a")
	keeltest.Close(t, db)

	snaps, _ := filepath.Glob(filepath.Join(theirs, "snapshot-*"))
	foreign := filepath.Join(ours, filepath.Base(snaps[0]))
	copyFile(t, snaps[0], foreign)
	_, err = keel.Open(ours, keeltest.Module(m), keel.Options{})
	var fe *wal.ForeignError
	if !errors.As(err, &fe) || !errors.Is(err, keel.ErrSchemaChanged) || fe.File != foreign ||
		!strings.Contains(err.Error(), "table post") || !strings.Contains(err.Error(), "module twin") {
		t.Fatalf("open with another module's snapshot: %v", err)
	}
	t.Logf("foreign snapshot: %v", err)
	os.Remove(foreign)

	segs, _ := filepath.Glob(filepath.Join(theirs, "log", "0*"))
	ourSegs, _ := filepath.Glob(filepath.Join(ours, "log", "0*"))
	copyFile(t, segs[0], ourSegs[0])
	_, err = keel.Open(ours, keeltest.Module(m), keel.Options{})
	if !errors.As(err, &fe) || fe.File != ourSegs[0] || fe.Index != 1 || !errors.Is(err, keel.ErrSchemaChanged) {
		t.Fatalf("open with another module's log: %v", err)
	}
	t.Logf("foreign log: %v", err)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestTornEntryInSnapshot cuts the last log entry when it is the newest
// snapshot's: open repairs it (the snapshot holds the entry), and the log
// goes on at the next index, across more reopens. A cut at an entry's
// start (the whole entry gone, or two) is repaired the same way.
func TestTornEntryInSnapshot(t *testing.T) {
	for _, cut := range []int{1, 8, 15, 22, 29, 36, -1, -2} {
		t.Run(fmt.Sprint("cut", cut), func(t *testing.T) {
			dir := t.TempDir()
			o := keel.Options{SnapshotEvery: -1, SnapshotBytes: -1}
			db, m := open(t, dir, o)
			for i := range 5 {
				add(t, db, m, fmt.Sprint("p", i))
			}
			if err := db.Snapshot(); err != nil {
				t.Fatal(err)
			}
			want := postIDs(t, db, m)
			keeltest.Close(t, db)
			segs, _ := filepath.Glob(filepath.Join(dir, "log", "0*"))
			last := segs[len(segs)-1]
			rep, err := wal.ReadSegment(wal.Segment{Path: last, First: 1})
			if err != nil {
				t.Fatal(err)
			}
			e := rep.Entries[len(rep.Entries)-1]
			if e.Index != 6 {
				t.Fatalf("last entry %d, want 6 (the snapshot's)", e.Index)
			}
			size := e.Offset + int64(len(e.Data)) + 1
			switch cut {
			case -1: // entry 6 gone whole
				size = e.Offset
			case -2: // entries 5 and 6
				size = rep.Entries[len(rep.Entries)-2].Offset
			default:
				size -= int64(cut)
			}
			if err := os.Truncate(last, size); err != nil {
				t.Fatal(err)
			}
			db, m = open(t, dir, o)
			if rec := db.Recovery(); rec.Repair == "" || rec.LastIndex != 6 || rec.SnapshotIndex != 6 {
				t.Fatalf("recovery %+v", rec)
			}
			if got := postIDs(t, db, m); !mapsEqual(got, want) {
				t.Fatalf("after the repair: %v, want %v", got, want)
			}
			p := add(t, db, m, "later")
			want["later"] = p.ID
			keeltest.Close(t, db)
			db, m = open(t, dir, o)
			if got := postIDs(t, db, m); !mapsEqual(got, want) {
				t.Fatalf("after a second reopen: %v, want %v", got, want)
			}
			if rec := db.Recovery(); rec.LastIndex != 7 || rec.Repair != "" {
				t.Fatalf("second recovery %+v", rec)
			}
		})
	}
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRowsReadTheSame stores rows of every column type with values that
// differ from their stored form (a time with a zone and a monotonic
// reading, empty slices, bytes the caller changes afterwards, fields not
// stored): what Insert and Update return, what views show and what a
// reopen gives back are the same.
func TestRowsReadTheSame(t *testing.T) {
	dir := t.TempDir()
	db := keeltest.Open(t, dir, kinds.Module, keel.Options{})
	c := kinds.NewClient(db, "t")
	zone := time.FixedZone("X", 3*3600)
	raw := []byte{1, 2, 3}
	in := []kinds.Sample{
		{Bool: true, Int: -1, Int8: -128, Int16: 32767, Int32: -5, Int64: 1 << 62, Uint: 7, Uint8: 255, Uint16: 9,
			Uint32: 1 << 31, Float32: 1.5, Float64: -0.25, Text: "a", Bytes: raw, At: time.Now(),
			Level: 3, Label: "l", Ints: []int64{}, Texts: []string{"x"}, Times: []time.Time{time.Date(2026, 1, 2, 3, 4, 5, 6, zone)},
			Labels: []kinds.Label{}, Cache: map[string]int{"k": 1}, Note: "not stored"},
		{Text: "b", Bytes: []byte{}, At: time.Date(2025, 5, 6, 7, 8, 9, 10, zone), Ints: []int64{1, 2}},
	}
	var got []kinds.Sample
	for _, s := range in {
		r, err := c.Put(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	raw[0] = 99 // the caller's slice is not the stored row's
	upd := got[1]
	upd.At, upd.Note, upd.Texts = time.Now().In(zone), "again", []string{}
	r, err := c.Replace(t.Context(), upd)
	if err != nil {
		t.Fatal(err)
	}
	got[1] = r
	check := func(what string, rows []kinds.Sample) {
		t.Helper()
		if len(rows) != len(got) {
			t.Fatalf("%s: %d rows, %d were written", what, len(rows), len(got))
		}
		for i := range rows {
			if !reflect.DeepEqual(rows[i], got[i]) {
				t.Errorf("%s: row %d\n%#v\nreturned as\n%#v", what, i, rows[i], got[i])
			}
		}
	}
	view := func(db *keel.DB) []kinds.Sample {
		v, err := kinds.NewClient(db, "t").View(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return slices.Collect(v.Sample().All())
	}
	check("view", view(db))
	if got[0].Bytes[0] != 1 || got[0].Note != "" || got[0].Cache != nil || got[0].Ints != nil || got[0].At.Location() != time.UTC {
		t.Fatalf("stored row not normalised: %#v", got[0])
	}
	keeltest.Close(t, db)
	db2 := keeltest.Open(t, dir, kinds.Module, keel.Options{})
	check("after reopening", view(db2))
}

// encodeBomb is a module whose row codec panics on one row, as a broken
// codec would inside the log's Append.
func encodeBomb() (*keel.Module, *reducer.Func[string, struct{}], *table.Def[testmod.Post]) {
	def := testmod.NewPostDef(table.SeqParams[uint64]{Batch: 2})
	enc := def.Encode
	def.Encode = func(dst []byte, r *testmod.Post) []byte {
		if r.Slug == "bomb" {
			panic("codec exploded")
		}
		return enc(dst, r)
	}
	put := reducer.New("Put", func(c *reducer.Ctx, slug string) (struct{}, error) {
		_, err := table.Use(c.Tx, def).Insert(testmod.Post{Slug: slug})
		return struct{}{}, err
	}, reducer.Codec[string]{}, reducer.Codec[struct{}]{})
	return &keel.Module{Name: "bomb", Tables: []table.Schema{def}, Reducers: []*reducer.Def{&put.Def}}, put, def
}

// TestEncodePanics: a row codec that panics inside the log's Append fails
// its call with the panic; the database goes on serving and nothing of
// the call is there after reopening.
func TestEncodePanics(t *testing.T) {
	dir := t.TempDir()
	mod, put, def := encodeBomb()
	db := keeltest.Open(t, dir, mod, keel.Options{})
	if _, err := keel.Run(t.Context(), db, "t", put, "a"); err != nil {
		t.Fatal(err)
	}
	_, err := keel.Run(t.Context(), db, "t", put, "bomb")
	var pe *reducer.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "codec exploded") {
		t.Fatalf("call whose row does not encode: %v", err)
	}
	if _, err := keel.Run(t.Context(), db, "t", put, "b"); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
	keeltest.Close(t, db)
	mod2, _, def2 := encodeBomb()
	db2 := keeltest.Open(t, dir, mod2, keel.Options{})
	v, err := db2.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for p := range table.Read(v, def2).All() {
		slugs = append(slugs, p.Slug)
	}
	if !slices.Equal(slugs, []string{"a", "b"}) {
		t.Fatalf("after reopening: %v", slugs)
	}
	_ = def
}

// hashDir hashes every file of dir, with its name and size.
func hashDir(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		fmt.Fprintf(h, "%s %d %x\n", path, fi.Size(), sha256.Sum256(b))
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestReadOnly opens a directory with a torn tail read-only: nothing on
// disk changes, views show the acknowledged posts, calls fail; a normal
// open then repairs it.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	for i := range 5 {
		add(t, db, m, fmt.Sprint("p", i))
	}
	want := postIDs(t, db, m)
	keeltest.Close(t, db)
	segs, _ := filepath.Glob(filepath.Join(dir, "log", "0*"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{40, 2, 9, 9, 9}) // a torn entry
	f.Close()
	before := hashDir(t, dir)
	ro, m2 := open(t, dir, keel.Options{ReadOnly: true})
	if got := postIDs(t, ro, m2); !mapsEqual(got, want) {
		t.Fatalf("read-only view %v, want %v", got, want)
	}
	if rec := ro.Recovery(); rec.Repair == "" {
		t.Fatalf("read-only open does not report the repair it would do: %+v", rec)
	}
	if _, err := keel.Run(t.Context(), ro, "t", m2.AddPost, testmod.AddPostArgs{Slug: "x"}); !errors.Is(err, keel.ErrReadOnly) {
		t.Fatalf("call on a read-only database: %v", err)
	}
	if err := ro.Snapshot(); err == nil {
		t.Fatal("snapshot of a read-only database")
	}
	keeltest.Close(t, ro)
	if after := hashDir(t, dir); after != before {
		t.Fatal("a read-only open changed the directory")
	}
	if _, err := keel.Open(filepath.Join(dir, "nothing"), keeltest.Module(m2), keel.Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing directory")
	}
	db3, m3 := open(t, dir, keel.Options{})
	if got := postIDs(t, db3, m3); !mapsEqual(got, want) {
		t.Fatalf("after the repair %v, want %v", got, want)
	}
}

// TestStats reports each sequence's next value and persisted boundary,
// also after a reopen, and the log's groups and fsyncs.
func TestStats(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	for i := range 4 {
		add(t, db, m, fmt.Sprint("p", i))
	}
	seq := func(db *keel.DB) keel.Stats {
		s := db.Stats()
		return s
	}
	s := seq(db)
	var post = s.Sequences[0]
	// Five posts (init's and four) with batch 2: next 6, boundary 7.
	if post.Sequence != "post_id_seq" || post.Next != "6" || post.Persisted != "7" {
		t.Fatalf("sequence stats %+v", s.Sequences)
	}
	if s.Commits != 5 || s.Log.Entries != 5 || s.Log.Syncs == 0 || s.Log.Groups == 0 {
		t.Fatalf("stats %+v", s)
	}
	keeltest.Close(t, db)
	db2, _ := open(t, dir, keel.Options{})
	post = seq(db2).Sequences[0]
	if post.Next != "7" || post.Persisted != "7" {
		t.Fatalf("after reopening %+v", post)
	}
}

// TestViewTxID reports the last committed transaction, not a later one
// that rolled back.
func TestViewTxID(t *testing.T) {
	db, m := open(t, t.TempDir(), keel.Options{})
	add(t, db, m, "a")
	keel.Run(t.Context(), db, "t", m.Fail, "b")
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v.TxID != 2 {
		t.Fatalf("view of transaction %d, want 2", v.TxID)
	}
}

// TestClosed: calls and views after Close fail with ErrClosed; Close may
// be called again.
func TestClosed(t *testing.T) {
	db, m := open(t, t.TempDir(), keel.Options{})
	if err := keeltest.Close(t, db); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := keel.Run(t.Context(), db, "t", m.AddPost, testmod.AddPostArgs{Slug: "x"}); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
	if _, err := db.View(t.Context()); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("view after close: %v", err)
	}
}

// TestBatch submits calls together: they run in order, and when the queue
// refuses one (fail fast, full), it and the rest fail with the error
// while those before it run.
func TestBatch(t *testing.T) {
	db, m := open(t, t.TempDir(), keel.Options{})
	b := keel.NewBatch(db)
	var fs []keel.Future[testmod.Post]
	for i := range 50 {
		fs = append(fs, keel.Add(b, t.Context(), "t", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("b", i)}))
	}
	if b.Len() != 50 {
		t.Fatalf("batch of %d", b.Len())
	}
	// Before Submit a Wait returns at once, with or without a context
	// that ends, and the call still runs when the batch is submitted.
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for _, ctx := range []context.Context{ended, t.Context()} {
		if p, err := fs[0].Wait(ctx); !errors.Is(err, keel.ErrNotSubmitted) || !strings.Contains(err.Error(), "AddPost") {
			t.Fatalf("wait before submit: %+v, %v; want ErrNotSubmitted naming the reducer", p, err)
		}
	}
	if fs[0].Done() {
		t.Fatal("a call not submitted is done")
	}
	if err := b.Submit(); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i, f := range fs {
		p, err := f.Wait(t.Context())
		if err != nil || p.ID <= last || p.Slug != fmt.Sprint("b", i) {
			t.Fatalf("batch call %d: %+v %v", i, p, err)
		}
		last = p.ID
	}
	if b.Len() != 0 {
		t.Fatal("a submitted batch is not empty")
	}

	// A reducer that blocks holds the executor (it runs on its caller's
	// goroutine and takes no place), so the queue's three places fill.
	release := make(chan struct{})
	started := make(chan struct{})
	block := reducer.New("Block", func(c *reducer.Ctx, _ struct{}) (struct{}, error) {
		close(started)
		<-release
		return struct{}{}, nil
	}, reducer.Codec[struct{}]{}, reducer.Codec[struct{}]{})
	m3 := testmod.New(table.SeqParams[uint64]{})
	mod3 := keeltest.Module(m3)
	mod3.Reducers = append(mod3.Reducers, &block.Def)
	db3, err := keel.OpenMemory(mod3, keel.Options{QueueCalls: 3, FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	go keel.Run(t.Context(), db3, "t", block, struct{}{})
	<-started
	b3 := keel.NewBatch(db3)
	var f3 []keel.Future[testmod.Post]
	for i := range 4 {
		f3 = append(f3, keel.Add(b3, t.Context(), "t", m3.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("q", i)}))
	}
	err = b3.Submit()
	if !errors.Is(err, keel.ErrQueueFull) {
		t.Fatalf("batch into a full queue: %v", err)
	}
	close(release)
	for i, f := range f3 {
		_, err := f.Wait(t.Context())
		if i < 3 && err != nil {
			t.Fatalf("call %d, queued before the queue filled: %v", i, err)
		}
		if i >= 3 && !errors.Is(err, keel.ErrQueueFull) {
			t.Fatalf("call %d, after the queue filled: %v", i, err)
		}
	}
}

// TestOptionsRefused: a negative size, count or interval, or an unknown
// sync policy, fails Open and OpenMemory with ErrOptions, naming the
// field, before anything is written.
func TestOptionsRefused(t *testing.T) {
	m := keeltest.Module(testmod.New(table.SeqParams[uint64]{}))
	for field, o := range map[string]keel.Options{
		"SyncInterval":  {SyncInterval: -time.Second},
		"SegmentSize":   {SegmentSize: -1},
		"KeepSnapshots": {KeepSnapshots: -1},
		"QueueCalls":    {QueueCalls: -1},
		"QueueBytes":    {QueueBytes: -1},
		"Sync":          {Sync: keel.SyncNever + 1},
	} {
		dir := filepath.Join(t.TempDir(), "db")
		_, err := keel.Open(dir, m, o)
		if !errors.Is(err, keel.ErrOptions) || !strings.Contains(err.Error(), "Options."+field+" is ") ||
			field == "SyncInterval" && !strings.Contains(err.Error(), " is -1s,") {
			t.Errorf("Open with a bad %s: %v", field, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("Open with a bad %s made its directory (%v)", field, serr)
		}
		if _, err := keel.OpenMemory(m, o); !errors.Is(err, keel.ErrOptions) {
			t.Errorf("OpenMemory with a bad %s: %v", field, err)
		}
	}
	// A name to drop that the module still has reads as a deletion that
	// does nothing: refused.
	for drop, want := range map[string]string{"post": "still has table post", "post.slug": "table post still has column slug"} {
		_, err := keel.Open(filepath.Join(t.TempDir(), "db"), m, keel.Options{Drop: []string{drop}})
		if !errors.Is(err, table.ErrSchema) || !strings.Contains(err.Error(), want) {
			t.Errorf("Open with Drop %s: %v", drop, err)
		}
	}
	// A module without a name (a zero keel.Module) is refused too.
	if _, err := keel.OpenMemory(&keel.Module{}, keel.Options{}); !errors.Is(err, table.ErrSchema) || !strings.Contains(err.Error(), "no name") {
		t.Errorf("OpenMemory of a zero module: %v", err)
	}
	if _, err := keel.Open(filepath.Join(t.TempDir(), "db"), &keel.Module{}, keel.Options{}); !errors.Is(err, table.ErrSchema) {
		t.Errorf("Open of a zero module: %v", err)
	}
	// Negative snapshot measures mean never, and are taken.
	keeltest.Open(t, t.TempDir(), m, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
}

// TestAnotherModulesDirectory: a directory none of whose tables the
// module has holds another module's data: Open refuses it, naming both
// modules, even with every stored table named in Options.Drop, and the
// data is still there for its own module.
func TestAnotherModulesDirectory(t *testing.T) {
	dir := t.TempDir()
	db, m := open(t, dir, keel.Options{})
	add(t, db, m, "kept")
	keeltest.Close(t, db)
	for _, o := range []keel.Options{{}, {Drop: []string{"post", "order", "post_order"}}} {
		_, err := keel.Open(dir, kinds.Module, o)
		if !errors.Is(err, keel.ErrSchemaChanged) || !strings.Contains(err.Error(), "holds the data of module testmod, none of whose tables module kinds has") {
			t.Fatalf("Open with another module (Drop %v): %v", o.Drop, err)
		}
	}
	db2, m2 := open(t, dir, keel.Options{})
	if _, ok := postIDs(t, db2, m2)["kept"]; !ok {
		t.Fatal("the post is gone after the refused opens")
	}
}
