package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// groupEntries runs 2n AddPost calls on a single node's log and returns
// their commits as the data of two raft entries: the first n as a group
// of the compact form, the others as one of the older form (whole
// records, each with its checksum), with the module that wrote them.
func groupEntries(t *testing.T, n int) (compact, older []byte, m *testmod.Module) {
	t.Helper()
	dir := t.TempDir()
	d := openDB(t, filepath.Join(dir, "single"), Options{})
	defer d.close()
	l, err := OpenRaft(filepath.Join(dir, "raft"), d.m.Name, d.m.Tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := l.NewGroup()
	var whole []byte
	d.rt.OnCommit(func(c *table.Commit) {
		if g.Len() < n {
			g.Add(c)
			return
		}
		rec := l.EncodeCommit(nil, c)
		whole = binary.AppendUvarint(whole, uint64(len(rec)))
		whole = append(whole, rec...)
	})
	for i := range 2 * n {
		if _, err := d.add(fmt.Sprint("p", i)); err != nil {
			t.Fatal(err)
		}
	}
	if g.Len() != n || Commits(appendPayload(nil, l.fp, groupName, whole)) != n {
		t.Fatalf("groups of %d and %d commits, want %d", g.Len(), Commits(appendPayload(nil, l.fp, groupName, whole)), n)
	}
	return g.TakeAppend(nil), appendPayload(nil, l.fp, groupName, whole), d.m
}

// groupCommits returns the commits of a group's entry data, each aliasing
// data: a compact group's commit bodies, or an older group's records.
func groupCommits(t *testing.T, data []byte) [][]byte {
	t.Helper()
	payload, group, err := groupOf(data)
	if !group || err != nil {
		t.Fatalf("not a group: %v", err)
	}
	recs, _, ok := groupRecords(payload)
	if !ok {
		t.Fatal("a group whose head is cut")
	}
	var out [][]byte
	for len(recs) > 0 {
		var rec []byte
		if rec, recs, ok = nextInGroup(recs); !ok {
			t.Fatal("a group whose lengths run past it")
		}
		out = append(out, rec)
	}
	return out
}

// mend sets the checksum at the end of a record to that of its bytes.
func mend(rec []byte) {
	binary.LittleEndian.PutUint32(rec[len(rec)-4:], crc32.Checksum(rec[:len(rec)-4], castagnoli))
}

// rename changes the last byte of the first name in rec whose bytes are
// name, after its length, to 'x', and fails when there is none.
func rename(t *testing.T, rec []byte, name string) {
	t.Helper()
	at := bytes.Index(rec, append([]byte{byte(len(name))}, name...))
	if at < 0 {
		t.Fatalf("no %q in the commit", name)
	}
	rec[at+len(name)] = 'x'
}

// groupDir writes a replicated directory for m whose entries 1 and 2 hold
// compact and older, both committed, and returns it.
func groupDir(t *testing.T, m *testmod.Module, compact, older []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	l, err := OpenRaft(dir, m.Name, m.Tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append([]RaftEntry{{Index: 1, Term: 1, Data: compact}, {Index: 2, Term: 1, Data: older}}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetHardState(HardState{Term: 1, Commit: 2}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCheckRaftGroups: Check reads each commit of a raft entry that is a
// group (compact, and of the older form) as RaftLog.Apply does: with
// commits that check, both accept them; a commit made malformed under a
// good entry checksum (an op that does not exist, a length that runs past
// the group, a table or sequence the module lacks, an older form's record
// whose own checksum fails or whose schema is another) is refused by both,
// the error after the entry's name the same (for a foreign schema, a
// *ForeignError of the same schema). OpenRaft accepts every one of these
// directories: it applies no entry; raft hands the committed ones to
// Apply, whose verdict is the one Check gives.
func TestCheckRaftGroups(t *testing.T) {
	compact, older, m := groupEntries(t, 6)
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, compact, older []byte)
		corrupt bool // the error matches ErrCorrupt
		foreign bool // the error is a *ForeignError
		want    string
	}{
		{name: "whole", damage: func(*testing.T, []byte, []byte) {}},
		{name: "op", corrupt: true, want: "group: record 1: record: record field op (9)", damage: func(t *testing.T, compact, _ []byte) {
			rec := groupCommits(t, compact)[1]
			d := newDecoder(rec, 0)
			d.Uvarint()
			d.Varint()
			d.Bytes(true)
			d.Bytes(true)
			d.Count()
			d.Bytes(true)
			d.Count()
			rec[d.Offset()] = 9
			mend(compact)
		}},
		{name: "length", corrupt: true, want: "group: the length of record 5 is out of range", damage: func(t *testing.T, compact, _ []byte) {
			last := groupCommits(t, compact)[5]
			// The last commit's length, one byte before it; the group's
			// record ends with its two zero counts and its checksum.
			at := len(compact) - 4 - 2 - len(last) - 1
			if int(compact[at]) != len(last) {
				t.Fatalf("the last commit's length is not the byte before it")
			}
			compact[at] = 0x7f
			mend(compact)
		}},
		{name: "table", want: `the log names table "posx"`, damage: func(t *testing.T, compact, _ []byte) {
			rename(t, groupCommits(t, compact)[3], "post")
			mend(compact)
		}},
		{name: "sequence", want: "post_id_sex", damage: func(t *testing.T, compact, _ []byte) {
			for _, rec := range groupCommits(t, compact) {
				if bytes.Contains(rec, []byte("post_id_seq")) {
					rename(t, rec, "post_id_seq")
					mend(compact)
					return
				}
			}
			t.Fatal("no commit moves the sequence")
		}},
		{name: "checksum", corrupt: true, want: "group: record 4: checksum mismatch", damage: func(t *testing.T, _, older []byte) {
			groupCommits(t, older)[4][12] ^= 0xff
			mend(older)
		}},
		{name: "foreign", foreign: true, damage: func(t *testing.T, _, older []byte) {
			rec := groupCommits(t, older)[5]
			rec[1] ^= 0x01
			mend(rec)
			mend(older)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, o := bytes.Clone(compact), bytes.Clone(older)
			tc.damage(t, c, o)
			dir := groupDir(t, m, c, o)
			rep, cerr := Check(dir)
			l, err := OpenRaft(dir, m.Name, m.Tables, Options{})
			if err != nil {
				t.Fatalf("OpenRaft: %v, want it to accept the directory", err)
			}
			defer l.Close()
			ents, err := l.Entries(1, 3, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			db, err := tx.NewDB(m.Tables)
			if err != nil {
				t.Fatal(err)
			}
			_, aerr := l.Apply(db, ents)
			if tc.want == "" && !tc.foreign {
				if aerr != nil || cerr != nil {
					t.Fatalf("Apply: %v; Check: %v; want both to accept the groups", aerr, cerr)
				}
				if rep.Entries != 2 {
					t.Errorf("Check read %d entries, want 2", rep.Entries)
				}
				return
			}
			if aerr == nil || cerr == nil {
				t.Fatalf("Apply: %v; Check: %v; want both to refuse the group", aerr, cerr)
			}
			if errors.Is(aerr, ErrCorrupt) != tc.corrupt || errors.Is(cerr, ErrCorrupt) != tc.corrupt {
				t.Errorf("Apply: %v; Check: %v; want both to match ErrCorrupt: %v", aerr, cerr, tc.corrupt)
			}
			if tc.foreign {
				var af, cf *ForeignError
				if !errors.As(aerr, &af) || !errors.As(cerr, &cf) || af.Found != cf.Found || cf.Index == 0 {
					t.Fatalf("Apply: %v; Check: %v; want a *ForeignError of the same schema from both", aerr, cerr)
				}
				return
			}
			_, awhy, _ := strings.Cut(aerr.Error(), "raft entry ")
			_, awhy, _ = strings.Cut(awhy, ": ")
			_, cwhy, _ := strings.Cut(cerr.Error(), " at offset ")
			_, cwhy, _ = strings.Cut(cwhy, ": ")
			if awhy != cwhy || !strings.Contains(cwhy, tc.want) {
				t.Fatalf("Check: %v\nApply: %v\nwant the same error after the entry's name, saying %q", cerr, aerr, tc.want)
			}
		})
	}
}

// TestCheckRaftGroupRows: Check decodes the rows of each commit in a
// group by the kinds schema.json stores: with schema.json edited by hand
// so that it stores kinds, post's id that of a bool, the rows of both groups' commits that do
// not decode (every one: each commit inserts a post of id 2 or more) are
// notes naming the entry and the commit in its group, the first three
// described and the others counted.
func TestCheckRaftGroupRows(t *testing.T) {
	compact, older, m := groupEntries(t, 6)
	dir := groupDir(t, m, compact, older)
	path := filepath.Join(dir, schemaFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The test module's columns have no kind: give each the kind of its
	// type, and post's id (its first uint64 column) that of a bool.
	edited := regexp.MustCompile(`"Type": "(\w+)"`).ReplaceAll(data, []byte(`"Type": "$1", "Kind": "$1"`))
	edited = bytes.Replace(edited, []byte(`"Kind": "uint64"`), []byte(`"Kind": "bool"`), 1)
	if err := os.WriteFile(path, edited, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(dir)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	var entries []string
	for _, n := range rep.Notes {
		if strings.Contains(n, "a row of table post does not decode by the kinds in schema.json") {
			_, at, _ := strings.Cut(n, " entry ")
			at, _, _ = strings.Cut(at, ":")
			entries = append(entries, at)
		}
	}
	want := []string{"1 at offset 0, commit 0 of its group", "1 at offset 0, commit 1 of its group", "1 at offset 0, commit 2 of its group"}
	if !slices.Equal(entries, want) {
		t.Fatalf("notes %q: rows that do not decode at entries %q, want %q", rep.Notes, entries, want)
	}
	// Each of the 12 commits inserts a post whose id is 2 or more.
	if n := rep.Notes[len(rep.Notes)-1]; n != "9 more rows do not decode by the kinds in schema.json" {
		t.Errorf("the last note %q, want 9 more rows (one of each commit of both groups)", n)
	}
}
