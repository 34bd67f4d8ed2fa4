package wal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	d := mustOpen(t, dir, keel.Options{})
	for i := range 10 {
		d.addPost(string(rune('a' + i)))
	}
	want := d.posts()
	d.mustClose()
	d2 := mustOpenMod(t, dir, d.m, keel.Options{})
	if got := d2.posts(); !slices.Equal(got, want) {
		t.Fatalf("after reopen:\n%v\nwant\n%v", got, want)
	}
	if rec := d2.Recovery(); rec.Entries != 11 {
		t.Errorf("replayed %d entries, want 11", rec.Entries)
	}
	var txid uint64
	d2.OnCommit(func(c *table.Commit) { txid = c.TxID })
	p := d2.addPost("z")
	if txid != 12 {
		t.Errorf("first transaction after reopen has id %d, want 12", txid)
	}
	if p.ID <= 11 {
		t.Errorf("new id %d reuses a value", p.ID)
	}
}

// TestPolicies: under every policy a closed database reopens with every
// transaction: those whose calls returned before Close, and those only
// submitted, which Close lets finish.
func TestPolicies(t *testing.T) {
	for _, p := range []keel.SyncPolicy{keel.SyncAlways, keel.SyncInterval, keel.SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := keel.Options{Sync: p, SyncInterval: time.Millisecond}
			d := mustOpen(t, dir, o)
			for i := range 25 {
				d.addPost(fmt.Sprint(i))
			}
			want := d.posts()
			var fs []keel.Future[testmod.Post]
			for i := 25; i < 50; i++ {
				s := fmt.Sprint(i)
				fs = append(fs, keel.Go(t.Context(), d.DB, "test", d.m.AddPost,
					testmod.AddPostArgs{Slug: s, Author: "a-" + s, Title: "t-" + s}))
			}
			d.mustClose()
			for i, f := range fs {
				p, err := f.Wait(t.Context())
				if err != nil {
					t.Fatalf("call %d submitted before Close: %v", 25+i, err)
				}
				want = append(want, postLine(p))
			}
			slices.Sort(want)
			if rec := reopen(t, dir, o, want); rec.Entries != 51 {
				t.Errorf("replayed %d entries, want 51", rec.Entries)
			}
		})
	}
}

// TestLeftoverTemporaryFiles: a crash while a snapshot or the schema was
// being written leaves a temporary file, which the next open removes.
func TestLeftoverTemporaryFiles(t *testing.T) {
	dir, states := buildLog(t, 3, noSnap)
	tmp := filepath.Join(dir, "snapshot-00000000000000000004.keel.tmp")
	if err := os.WriteFile(tmp, []byte("KEELSNAP half"), 0o640); err != nil {
		t.Fatal(err)
	}
	reopen(t, dir, noSnap, states[len(states)-1])
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}
