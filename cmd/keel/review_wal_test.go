package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// treeState is every file under dir with its mode, size, content hash
// and modification time.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h := ""
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		lines = append(lines, fmt.Sprintf("%s %v %d %s %v", p, fi.Mode(), fi.Size(), h, fi.ModTime()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// runSplit runs a command line and returns its stdout, stderr and exit
// status apart.
func runSplit(args ...string) (stdout, stderr string, code int) {
	var out, errs bytes.Buffer
	code = run(&out, &errs, args)
	return out.String(), errs.String(), code
}

// TestReviewSnapshotListsSnapshotsOnEarlyFailure: when Open would fail
// before it looks at the snapshots (schema.json damaged, an unfinished
// truncation file in the log), keel wal snapshot still lists the
// snapshot files instead of saying there are none.
func TestReviewSnapshotListsSnapshotsOnEarlyFailure(t *testing.T) {
	for name, damage := range map[string]func(dir string){
		"schema.json cut": func(dir string) {
			edit(t, filepath.Join(dir, "schema.json"), func(b []byte) []byte { return b[:len(b)/2] })
		},
		"truncation file": func(dir string) {
			if err := os.WriteFile(segment(dir, 11)+".START", []byte("x"), 0o640); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := build(t, true, false)
			damage(dir)
			before := treeState(t, dir)
			out, errs, code := runSplit("wal", "snapshot", dir)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if strings.Contains(out, "no snapshots") || !strings.Contains(out, snapFile(dir, 7)) {
				t.Errorf("the snapshot is not listed:\n%s", out)
			}
			if !strings.Contains(out, "open would fail: ") {
				t.Errorf("no failure:\n%s", out)
			}
			if !strings.HasPrefix(errs, "keel: snapshot ") || strings.Count(errs, "keel:") != 1 {
				t.Errorf("stderr %q", errs)
			}
			if treeState(t, dir) != before {
				t.Error("keel wal snapshot changed the directory")
			}
		})
	}
}

// TestReviewSnapshotExhausted: a sequence that is exhausted in the
// snapshot does not resume; keel wal snapshot says so, as show does for
// a log entry.
func TestReviewSnapshotExhausted(t *testing.T) {
	dir := t.TempDir()
	m := testmod.New(table.SeqParams[uint64]{Max: 3, HasMax: true, NoCycle: true, Batch: 1})
	d, err := keel.Open(dir, keeltest.Module(m), keel.Options{SnapshotBytes: -1, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := keel.Run(t.Context(), d, "alice", m.AddPost, testmod.AddPostArgs{Slug: fmt.Sprint("s", i)}); err != nil {
			break
		}
		if i > 10 {
			t.Fatal("the sequence does not run out")
		}
	}
	if err := d.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runSplit("wal", "snapshot", dir)
	if code != 0 || !strings.Contains(out, "sequence post.post_id_seq") {
		t.Fatalf("exit status %d:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "sequence post.post_id_seq") && !strings.Contains(line, "(exhausted)") {
			t.Errorf("an exhausted sequence is shown as resuming: %q\n%s", line, out)
		}
	}
}

// TestReviewCallerQuoted: the reducer and caller of an entry are stored
// as given; one with a tab or a newline must not split the entries table
// into other columns or forge a line, and show prints it quoted.
func TestReviewCallerQuoted(t *testing.T) {
	dir := t.TempDir()
	m := newMod(true)
	d, err := keel.Open(dir, keeltest.Module(m), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	caller := "bob\tx\n99     99    1      2000-01-01T00:00:00.000000000Z  Forged   -  -"
	if _, err := keel.Run(t.Context(), d, reducer.Identity(caller), m.AddPost, testmod.AddPostArgs{Slug: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := keel.Run(t.Context(), d, "-", m.AddPost, testmod.AddPostArgs{Slug: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runSplit("wal", "entries", dir)
	if code != 0 {
		t.Fatalf("exit status %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || strings.Contains(out, "\n99 ") {
		t.Errorf("entries prints %d lines, want a header and 3 entries:\n%s", len(lines), out)
	}
	if want := fmt.Sprintf("%q", caller); !strings.Contains(lines[2], want) {
		t.Errorf("entry 2 lacks the quoted caller %s:\n%s", want, out)
	}
	if !strings.Contains(lines[3], ` "-" `) {
		t.Errorf("a caller named - is not told from none:\n%s", out)
	}
	out, _, code = runSplit("wal", "show", dir, "2")
	if want := fmt.Sprintf("reducer AddPost, caller %q\n", caller); code != 0 || !strings.Contains(out, want) {
		t.Errorf("show: exit status %d, lacks %q:\n%s", code, want, out)
	}
}

// TestReviewVerifyStderrNamesPlace: the error verify ends with, on
// stderr, names the file and the entry and offset where Open fails, not
// only stdout's report; with one keel: prefix.
func TestReviewVerifyStderrNamesPlace(t *testing.T) {
	dir := build(t, true, false)
	off := entryOffset(t, segment(dir, 11), 11, 12)
	edit(t, segment(dir, 11), func(b []byte) []byte { b[off+20] ^= 0x40; return b })
	for _, cmd := range []string{"verify", "snapshot"} {
		_, errs, code := runSplit("wal", cmd, dir)
		want := fmt.Sprintf("%s, entry 12, offset %d", segment(dir, 11), off)
		if code != 1 || !strings.Contains(errs, want) || !strings.HasPrefix(errs, "keel: ") || strings.Count(errs, "keel:") != 1 {
			t.Errorf("%s: exit status %d, stderr %q, want %q in it", cmd, code, errs, want)
		}
	}
}

// TestReviewReadOnly: no wal command changes a damaged directory (a torn
// tail, preallocated zeros, damage in the middle, a removed snapshot or
// segment), and verify's status agrees with what keel.Open does with a
// copy: 0 when it opens it without losing an entry.
func TestReviewReadOnly(t *testing.T) {
	cases := []struct {
		name   string
		open   bool
		damage func(dir string)
		ok     bool
	}{
		{"torn", false, func(dir string) { edit(t, segment(dir, 11), func(b []byte) []byte { return b[:len(b)-5] }) }, false},
		{"zeros", true, func(dir string) {}, true},
		{"appended zeros", false, func(dir string) {
			edit(t, segment(dir, 11), func(b []byte) []byte { return append(b, make([]byte, 100)...) })
		}, true},
		{"flipped", false, func(dir string) { edit(t, segment(dir, 1), func(b []byte) []byte { b[len(b)-3] ^= 0x10; return b }) }, false},
		{"no snapshot", false, func(dir string) { os.Remove(snapFile(dir, 7)) }, true},
		{"no first segment", false, func(dir string) { os.Remove(segment(dir, 1)) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := build(t, true, c.open)
			if c.open {
				// A copy of the running database's directory, taken
				// as it is.
				cp := t.TempDir()
				os.Mkdir(filepath.Join(cp, "log"), 0o750)
				for _, f := range []string{"schema.json", filepath.Base(snapFile(dir, 7)), "log/" + filepath.Base(segment(dir, 1)), "log/" + filepath.Base(segment(dir, 11))} {
					copyFile(t, filepath.Join(dir, f), filepath.Join(cp, f))
				}
				dir = cp
			}
			c.damage(dir)
			before := treeState(t, dir)
			for _, args := range [][]string{{"segments", dir}, {"entries", dir}, {"show", dir, "9"}, {"verify", dir}, {"snapshot", dir}} {
				_, errs, code := runSplit(append([]string{"wal"}, args...)...)
				if code == 2 || (code == 1) != (errs != "") || (errs != "" && (!strings.HasPrefix(errs, "keel: ") || strings.Contains(errs, "keel: keel"))) {
					t.Errorf("%v: exit status %d, stderr %q", args, code, errs)
				}
				if treeState(t, dir) != before {
					t.Fatalf("%v changed the directory", args)
				}
			}
			_, _, code := runSplit("wal", "verify", dir)
			cp := t.TempDir()
			for _, f := range strings.Split(before, "\n") {
				p := strings.Fields(f)[0]
				rel, _ := filepath.Rel(dir, p)
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					os.MkdirAll(filepath.Join(cp, rel), 0o750)
				} else {
					copyFile(t, p, filepath.Join(cp, rel))
				}
			}
			d, err := keel.Open(cp, keeltest.Module(newMod(true)), testOpts)
			lossless := err == nil && d.Recovery().DroppedEntries == 0
			if err == nil {
				d.Close()
			}
			if (code == 0) != c.ok || lossless != c.ok {
				t.Errorf("verify exit status %d, open: %v (lossless %t), want success %t", code, err, lossless, c.ok)
			}
		})
	}
}
