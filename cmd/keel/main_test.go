package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// newMod is the test module with the column kinds keelgen writes, so that
// schema.json lets the tool decode rows; without kinds, as testmod is
// written by hand, when kinds is false.
func newMod(kinds bool) *testmod.Module {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	if kinds {
		for i, k := range []string{"uint64", "string", "string", "string"} {
			m.Post.Columns[i].Kind = k
		}
		for i, k := range []string{"string", "int64", "string", "int64"} {
			m.Order.Columns[i].Kind = k
		}
	}
	return m
}

var testOpts = keel.Options{SegmentSize: 600, SnapshotBytes: -1, SnapshotEvery: -1}

// build writes 12 posts after the init reducer's one, with a snapshot
// after entry 7: segment 1 holds entries 1 to 10, segment 11 entries 11
// to 13. The database is closed unless open is true; then it is closed
// when the test ends, and its tail segment runs on into preallocated
// zeros.
func build(t *testing.T, kinds, open bool) string {
	t.Helper()
	dir := t.TempDir()
	m := newMod(kinds)
	d, err := keel.Open(dir, keeltest.Module(m), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := keel.Run(t.Context(), d, "alice", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i), Author: "ann", Title: "x"}); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			if err := d.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if open {
		t.Cleanup(func() { d.Close() })
		return dir
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func segment(dir string, first int) string {
	return filepath.Join(dir, "log", fmt.Sprintf("%020d", first))
}

func snapFile(dir string, index int) string {
	return filepath.Join(dir, fmt.Sprintf("snapshot-%020d.keel", index))
}

// twinPost is a row of twin's post table.
type twinPost struct {
	ID   uint64
	Rank int64
}

// twin is another module with a table of the same name and other
// columns: its entries carry another schema fingerprint.
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

// twinDir is a closed database of twin with three entries in segment 1
// and a snapshot after entry 3.
func twinDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m, put := twin()
	d, err := keel.Open(dir, m, keel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := keel.Run(t.Context(), d, "", put, twinPost{ID: uint64(i + 1), Rank: -int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
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

// edit changes a file with fn.
func edit(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o640); err != nil {
		t.Fatal(err)
	}
}

// entryOffset is the offset of entry index in its segment.
func entryOffset(t *testing.T, seg string, first, index int) int64 {
	t.Helper()
	r, err := wal.ReadSegment(wal.Segment{Path: seg, First: uint64(first)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Entries {
		if e.Index == uint64(index) {
			return e.Offset
		}
	}
	t.Fatalf("%s has no entry %d", seg, index)
	return 0
}

// invocation is one command line and what it must print and return.
type invocation struct {
	args []string // after "wal", DIR is replaced by the directory
	code int
	want []string // substrings of the output (stdout and stderr), DIR replaced
	not  []string // substrings it must not have
}

// scenario is a data directory in some state and what each command says
// about it.
type scenario struct {
	name  string
	setup func(t *testing.T) string
	// open is whether keel.Open (read-only) accepts the directory (1)
	// or not (0), or -1 when that is not the tool's to say; lossless is
	// whether it does so without dropping an entry.
	open     int
	lossless bool
	runs     []invocation
}

func scenarios() []scenario {
	healthy := func(t *testing.T) string { return build(t, true, false) }
	return []scenario{
		{name: "healthy", setup: healthy, open: 1, lossless: true, runs: []invocation{
			{args: []string{"segments", "DIR"}, want: []string{
				"SEGMENT  ", `re:DIR/log/00000000000000000001  1      10    \d+    ok\n`,
				`re:DIR/log/00000000000000000011  11     13    \d+    ok\n`}},
			{args: []string{"entries", "DIR"}, want: []string{"INDEX  TXID  BYTES", "Init     -       post:1 seqs:1", "AddPost  alice   post:1"}},
			{args: []string{"show", "DIR", "5"}, want: []string{"entry 5 (DIR/log/00000000000000000001, offset ",
				"reducer AddPost, caller alice", "table post: 1 change\n",
				`insert new: id=5 slug="s3" author="ann" title="x"`, "sequence post.post_id_seq resumes at 9"}},
			{args: []string{"show", "DIR", "99"}, code: 1, want: []string{"no valid entry 99"}},
			{args: []string{"verify", "DIR"}, want: []string{
				"schema: module testmod, fingerprint ",
				"DIR/snapshot-00000000000000000007.keel  7      in use: 7 rows",
				`re:DIR/log/00000000000000000001  1      10       3         \d+    ok\n`,
				`re:DIR/log/00000000000000000011  11     3        3         \d+    ok\n`,
				"open loads DIR/snapshot-00000000000000000007.keel (state after entry 7) and replays the log from entry 8: 6 entries; the log ends at entry 13",
				"ok: open accepts the directory as it is"}, not: []string{"FAIL"}},
			{args: []string{"snapshot", "DIR"}, want: []string{"in use: 7 rows",
				"open loads DIR/snapshot-00000000000000000007.keel (state after entry 7) and replays the log from entry 8",
				"table post: 7 rows", "sequence post.post_id_seq resumes at 9"}},
		}},
		{name: "no kinds", setup: func(t *testing.T) string { return build(t, false, false) }, open: 1, lossless: true, runs: []invocation{
			{args: []string{"show", "DIR", "5"}, want: []string{"insert new: [10]0502733303616e6e0178 (table post: column id has no kind)"}},
			{args: []string{"verify", "DIR"}, want: []string{"ok: open accepts the directory as it is"}},
		}},
		{name: "wrong kind", setup: func(t *testing.T) string {
			// schema.json edited by hand: it no longer describes the
			// rows. show and verify say so; whether Open accepts it
			// is the module's business (it decodes with its own code).
			dir := healthy(t)
			edit(t, filepath.Join(dir, "schema.json"), func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"Kind": "uint64"`), []byte(`"Kind": "bool"`), 1)
			})
			return dir
		}, open: -1, runs: []invocation{
			{args: []string{"show", "DIR", "5"}, want: []string{"insert new: [10]0502733303616e6e0178 (does not decode: column 0 (bool) at offset 0: bool byte 5 at offset 0)"}},
			{args: []string{"verify", "DIR"}, want: []string{
				"note: schema.json: its fingerprint", "edited by hand?",
				"note: DIR/snapshot-00000000000000000007.keel: row 1: a row of table post does not decode by the kinds in schema.json: codec: column 0 (bool) at offset 0: bool byte 2 at offset 0\n",
				"note: 9 more rows do not decode by the kinds in schema.json\n",
				"ok: open accepts the directory as it is"}},
		}},
		{name: "open", setup: func(t *testing.T) string { return build(t, true, true) }, open: 1, lossless: true, runs: []invocation{
			{args: []string{"segments", "DIR"}, want: []string{`re:DIR/log/00000000000000000011  11     13    8192   ok, \d+ bytes preallocated after entry 13 \(offset \d+\): open drops them`}},
			{args: []string{"entries", "DIR"}, want: []string{"13     13", "DIR/log/00000000000000000011: ok, ", " bytes preallocated after entry 13"}},
			{args: []string{"show", "DIR", "13"}, want: []string{`insert new: id=13 slug="s11"`}},
			{args: []string{"verify", "DIR"}, want: []string{
				`re:DIR/log/00000000000000000011  11     3        3         8192   ok, \d+ bytes preallocated after entry 13 \(offset \d+\): open drops them`,
				`re:ok: open drops the \d+ bytes of preallocated space after entry 13 \(DIR/log/00000000000000000011 from offset \d+\); no entry is lost`}},
			{args: []string{"snapshot", "DIR"}, want: []string{"replays the log from entry 8"}},
		}},
		{name: "torn tail", setup: func(t *testing.T) string {
			dir := healthy(t)
			edit(t, segment(dir, 11), func(b []byte) []byte { return b[:len(b)-10] })
			return dir
		}, open: 1, runs: []invocation{
			{args: []string{"segments", "DIR"}, want: []string{`re:DIR/log/00000000000000000011  11     12    \d+    torn tail at entry 13 offset \d+ \(length \d+ runs past the end of the file\): open repairs it`}},
			{args: []string{"entries", "DIR"}, want: []string{"12     12", "DIR/log/00000000000000000011: torn tail at entry 13"}, not: []string{"13     13"}},
			{args: []string{"show", "DIR", "13"}, code: 1, want: []string{"no valid entry 13"}},
			{args: []string{"verify", "DIR"}, code: 1, want: []string{
				`re:FAIL: DIR/log/00000000000000000011: torn tail at entry 13, offset \d+ \(length \d+ runs past the end of the file\)`,
				`re:open would repair it by truncating the segment there, dropping \d+ bytes and 1 entries \(from entry 13 on\)`,
				`re:keel: verify DIR: DIR/log/00000000000000000011 entry 13 at offset \d+: a torn tail, open would drop 1 entries`}},
			{args: []string{"snapshot", "DIR"}, want: []string{"replays the log from entry 8: 5 entries; the log ends at entry 12"}},
		}},
		{name: "damage in the middle", setup: func(t *testing.T) string {
			dir := healthy(t)
			off := entryOffset(t, segment(dir, 11), 11, 11)
			edit(t, segment(dir, 11), func(b []byte) []byte { b[off+20] ^= 0x40; return b })
			return dir
		}, runs: []invocation{
			{args: []string{"segments", "DIR"}, want: []string{"CORRUPT at entry 11 offset 0 (checksum mismatch)"}},
			{args: []string{"show", "DIR", "12"}, code: 1, want: []string{"no valid entry 12"}},
			{args: []string{"verify", "DIR"}, code: 1, want: []string{
				`re:DIR/log/00000000000000000011  11     0        0         \d+    CORRUPT at entry 11 offset 0 \(checksum mismatch\)`,
				"FAIL: open would refuse the directory: keel: wal: DIR/log/00000000000000000011: entry 11 at offset 0 is corrupt: checksum mismatch",
				"at DIR/log/00000000000000000011, entry 11, offset 0"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"in use: 7 rows", "open would fail: ", "entry 11 at offset 0 is corrupt"}},
		}},
		{name: "damage before the snapshot", setup: func(t *testing.T) string {
			// Segment 1 is needed for entries 8 to 10: damage at
			// entry 2, before the snapshot, still stops open.
			dir := healthy(t)
			edit(t, segment(dir, 1), func(b []byte) []byte { b[int(entryOffset(t, segment(dir, 1), 1, 2))+20] ^= 1; return b })
			return dir
		}, runs: []invocation{
			{args: []string{"verify", "DIR"}, code: 1, want: []string{`re:at DIR/log/00000000000000000001, entry 2, offset \d+\n`}},
		}},
		{name: "random segment", setup: func(t *testing.T) string {
			dir := healthy(t)
			rng := rand.New(rand.NewPCG(1, 2))
			edit(t, segment(dir, 11), func(b []byte) []byte {
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				return b
			})
			return dir
		}, runs: []invocation{
			// Random bytes are no interrupted write: entries 11 on were
			// written and acknowledged, and open refuses to drop them.
			{args: []string{"segments", "DIR"}, want: []string{`re:DIR/log/00000000000000000011  11     10    \d+ +CORRUPT at entry 11 offset 0`}},
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"FAIL: open would refuse", "at DIR/log/00000000000000000011, entry 11, offset 0"},
				not: []string{"ok:"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"open would fail"}},
		}},
		{name: "random segment in the middle", setup: func(t *testing.T) string {
			dir := healthy(t)
			b := make([]byte, 300)
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			if err := os.WriteFile(segment(dir, 14), b, 0o640); err != nil {
				t.Fatal(err)
			}
			copyFile(t, segment(dir, 11), segment(dir, 15)) // valid entries, misnumbered: never read
			return dir
		}, runs: []invocation{
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"FAIL: open would refuse", "at DIR/log/00000000000000000014, entry 14, offset 0",
				"DIR/log/00000000000000000015  15", "not read: open stops before it"}},
		}},
		{name: "foreign segment", setup: func(t *testing.T) string {
			dir := healthy(t)
			copyFile(t, segment(twinDir(t), 1), segment(dir, 14))
			return dir
		}, runs: []invocation{
			{args: []string{"segments", "DIR"}, want: []string{"DIR/log/00000000000000000014  14     16"}},
			{args: []string{"show", "DIR", "15"}, want: []string{"written by schema ", "not by this directory's schema",
				"insert new: [2]0201 (another schema's row)"}},
			{args: []string{"verify", "DIR"}, code: 1, want: []string{
				"FAIL: open would refuse the directory: keel: DIR/log/00000000000000000014: entry 14 was written by schema ",
				"at DIR/log/00000000000000000014, entry 14",
				"DIR/log/00000000000000000014  14     0        0         123    open fails here (below)"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"open would fail: ", "entry 14 was written by schema"}},
		}},
		{name: "foreign snapshot", setup: func(t *testing.T) string {
			dir := healthy(t)
			copyFile(t, snapFile(twinDir(t), 3), snapFile(dir, 13))
			return dir
		}, runs: []invocation{
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"DIR/snapshot-00000000000000000013.keel  13     open refuses it",
				"DIR/snapshot-00000000000000000007.keel  7      not read: open stops before it",
				"snapshot was written by another schema of module twin"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"open would fail: ", "at DIR/snapshot-00000000000000000013.keel"}},
		}},
		{name: "damaged snapshot", setup: func(t *testing.T) string {
			dir := healthy(t)
			edit(t, snapFile(dir, 7), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
			return dir
		}, open: 1, lossless: true, runs: []invocation{
			{args: []string{"verify", "DIR"}, want: []string{"unusable, open passes over it: ", "checksum mismatch",
				"open replays the log from entry 1: 13 entries", "ok: open accepts the directory, passing over the unusable snapshots above (it renames a damaged one to NAME.damaged)"}},
			{args: []string{"snapshot", "DIR"}, want: []string{"open replays the log from entry 1: 13 entries"}},
		}},
		{name: "pruned log without its snapshot", setup: func(t *testing.T) string {
			dir := healthy(t)
			os.Remove(segment(dir, 1))
			edit(t, snapFile(dir, 7), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
			return dir
		}, runs: []invocation{
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"no usable snapshot and the log starts at entry 11"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"open would fail: keel: no usable snapshot and the log starts at entry 11"}},
		}},
		{name: "missing segment", setup: func(t *testing.T) string {
			dir := healthy(t)
			copyFile(t, segment(dir, 11), segment(dir, 20))
			return dir
		}, runs: []invocation{
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"entries 14 to 19 are missing", "at DIR/log/00000000000000000020, entry 14"}},
		}},
		{name: "not a database", setup: func(t *testing.T) string { return t.TempDir() }, runs: []invocation{
			{args: []string{"segments", "DIR"}, code: 1, want: []string{"has no log segments"}},
			{args: []string{"verify", "DIR"}, code: 1, want: []string{"holds no Keel database (no schema.json)"}},
			{args: []string{"snapshot", "DIR"}, code: 1, want: []string{"no snapshots", "holds no Keel database"}},
			{args: []string{"show", "DIR", "1"}, code: 1, want: []string{"has no log segments"}},
		}},
	}
}

func runCmd(args ...string) (string, int) {
	var out bytes.Buffer
	code := run(&out, &out, args)
	return out.String(), code
}

// TestWal runs the commands on data directories in each state and checks
// their output and exit status; verify's status must agree with what
// keel.Open (read-only) does with the same directory.
func TestWal(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dir := sc.setup(t)
			for _, inv := range sc.runs {
				args := append([]string{"wal"}, inv.args...)
				for i, a := range args {
					args[i] = strings.ReplaceAll(a, "DIR", dir)
				}
				out, code := runCmd(args...)
				if code != inv.code {
					t.Errorf("%v: exit status %d, want %d\n%s", inv.args, code, inv.code, out)
				}
				for _, w := range inv.want {
					if re, ok := strings.CutPrefix(w, "re:"); ok {
						if !regexp.MustCompile(strings.ReplaceAll(re, "DIR", regexp.QuoteMeta(dir))).MatchString(out) {
							t.Errorf("%v: output does not match %s:\n%s", inv.args, re, out)
						}
					} else if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(out, w) {
						t.Errorf("%v: output lacks %q:\n%s", inv.args, w, out)
					}
				}
				for _, w := range inv.not {
					if w = strings.ReplaceAll(w, "DIR", dir); strings.Contains(out, w) {
						t.Errorf("%v: output has %q:\n%s", inv.args, w, out)
					}
				}
				if testing.Verbose() {
					t.Logf("keel %s:\n%s", strings.Join(inv.args, " "), out)
				}
			}
			checkAgrees(t, dir, sc)
		})
	}
}

// checkAgrees compares wal.Check with a read-only keel.Open of dir.
func checkAgrees(t *testing.T, dir string, sc scenario) {
	t.Helper()
	m := newMod(true)
	if sc.name == "no kinds" {
		m = newMod(false)
	}
	rep, cerr := wal.Check(dir)
	if sc.open < 0 {
		return
	}
	db, oerr := keel.Open(dir, keeltest.Module(m), keel.Options{ReadOnly: true})
	if (oerr == nil) != (sc.open == 1) {
		t.Errorf("read-only open: %v, want success %t", oerr, sc.open == 1)
	}
	if (cerr == nil) != (oerr == nil) {
		t.Fatalf("Check: %v, but read-only open: %v", cerr, oerr)
	}
	_, verr := runCmd("wal", "verify", dir)
	if want := sc.open == 1 && sc.lossless; (verr == 0) != want {
		t.Errorf("verify exit status %d, want success %t", verr, want)
	}
	if oerr != nil {
		if cerr.Error() != oerr.Error() {
			t.Errorf("Check and open fail differently:\ncheck: %v\nopen:  %v", cerr, oerr)
		}
		return
	}
	defer db.Close()
	got := db.Recovery()
	if rep.Snapshot != got.Snapshot || rep.SnapshotIndex != got.SnapshotIndex || rep.Entries != got.Entries ||
		rep.LastIndex != got.LastIndex || rep.Repair != got.Repair || rep.DroppedBytes != got.DroppedBytes ||
		rep.DroppedEntries != got.DroppedEntries {
		t.Errorf("Check and open disagree:\ncheck: %+v\nopen:  %+v", rep, got)
	}
}

// TestHelp asks every command for -h: its usage, on stdout, exit status 0.
func TestHelp(t *testing.T) {
	cases := [][]string{{"-h"}, {"--help"}, {"wal", "-h"}, {"wal", "--help"}}
	for _, c := range walCommands {
		cases = append(cases, []string{"wal", c.name, "-h"}, []string{"wal", c.name, "--help"})
	}
	for _, args := range cases {
		var out, errs bytes.Buffer
		code := run(&out, &errs, args)
		want := "usage: keel"
		if len(args) > 2 {
			want = "usage: keel wal " + args[1] + " DIR"
		}
		if code != 0 || !strings.HasPrefix(out.String(), want) || errs.Len() > 0 {
			t.Errorf("%v: exit status %d, stdout %q, stderr %q", args, code, out.String(), errs.String())
		}
	}
	for _, c := range []string{"call", "sql", "subscribe"} {
		var out, errs bytes.Buffer
		if code := run(&out, &errs, []string{c, "-h"}); code != 0 || !strings.HasPrefix(out.String(), "usage: keel "+c+" [flags] ") ||
			!strings.Contains(out.String(), "-token") || errs.Len() > 0 {
			t.Errorf("%s -h: exit status %d, stdout %q, stderr %q", c, code, out.String(), errs.String())
		}
	}
	for _, args := range [][]string{{}, {"sql"}, {"wal"}, {"wal", "nope", "x"}, {"wal", "show", "x"}, {"wal", "show", "x", "y"},
		{"wal", "verify"}, {"wal", "verify", "a", "b"}, {"wal", "verify", "-x", "a"}} {
		var out, errs bytes.Buffer
		if code := run(&out, &errs, args); code != 2 || out.Len() > 0 || !strings.HasPrefix(errs.String(), "keel: ") || strings.HasPrefix(errs.String(), "keel: keel") {
			t.Errorf("%v: exit status %d, stdout %q, stderr %q; want 2 and a message", args, code, out.String(), errs.String())
		}
	}
}

// TestSchemaKinds checks that the test module's schema.json carries the
// kinds that newMod sets, so that the scenarios test decoding.
func TestSchemaKinds(t *testing.T) {
	dir := build(t, true, false)
	b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Tables []table.TableInfo }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if k := s.Tables[0].Columns[0].Kind; k != "uint64" {
		t.Fatalf("post.id has kind %q", k)
	}
}

// TestBadPaths: a missing directory is said to be missing, not empty, and
// a schema file that is not JSON is named.
func TestBadPaths(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	var out, errs bytes.Buffer
	if code := run(&out, &errs, []string{"wal", "segments", missing}); code != 1 || !strings.Contains(errs.String(), "no such file or directory") {
		t.Errorf("wal segments of a missing directory: %d %q", code, errs.String())
	}
	file := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(file, []byte("Kbad"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	if code := run(&out, &errs, []string{"migrate", "plan", t.TempDir(), file}); code != 1 || !strings.HasPrefix(errs.String(), "keel: "+file+": ") {
		t.Errorf("migrate plan with a bad schema file: %d %q", code, errs.String())
	}
}
