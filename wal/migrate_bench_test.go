package wal_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/keeldb/keel"
	v1 "github.com/keeldb/keel/internal/migmod/v1"
	"github.com/keeldb/keel/internal/migmod/v2"
	"github.com/keeldb/keel/reducer"
)

var migBenchRows = flag.Int("migrate.rows", 1_000_000, "rows of BenchmarkMigrateOpen")

// migPost is post j of the migration benchmark and crash test, as
// version 1 stores it (its ID is j+1).
func migPost(j int) v1.Post {
	return v1.Post{Slug: fmt.Sprintf("post-%08d", j), Author: fmt.Sprintf("author-%d", j%100), Title: fmt.Sprintf("title %d", j)}
}

// buildMigData writes n posts of version 1 into dir, in transactions of
// 10,000, and a snapshot of them; after it, changes more posts (see
// migChange) when changes is set.
func buildMigData(tb testing.TB, dir string, n, changes int) {
	tb.Helper()
	db, err := keel.Open(dir, v1.Module, keel.Options{Sync: keel.SyncNever, SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		tb.Fatal(err)
	}
	const batch = 10_000
	for i := 0; i < n; i += batch {
		err := db.Update(tb.Context(), "bench", func(c *reducer.Ctx) error {
			t := v1.DBOf(c.Tx).Post()
			for j := i; j < min(i+batch, n); j++ {
				if _, err := t.Insert(migPost(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Snapshot(); err != nil {
		tb.Fatal(err)
	}
	for k := range changes {
		if err := db.Update(tb.Context(), "bench", func(c *reducer.Ctx) error { return migChange(v1.DBOf(c.Tx), n, k) }); err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
}

// migChange is change k after the snapshot of n posts: it deletes,
// updates or inserts a post, by k mod 3.
func migChange(db v1.DB, n, k int) error {
	t := db.Post()
	switch j := k * 7 % n; k % 3 {
	case 0:
		_, err := t.Delete(uint64(j + 1))
		if err != nil {
			_, err = t.Insert(migPost(n + k)) // deleted already
		}
		return err
	case 1:
		p := migPost(j)
		p.ID, p.Title = uint64(j+1), fmt.Sprintf("changed %d", k)
		_, _, err := t.Upsert(p)
		return err
	default:
		_, err := t.Insert(migPost(n + k))
		return err
	}
}

// copyDirTo copies the files of the data directory src into a new
// directory dst.
func copyDirTo(tb testing.TB, src, dst string) {
	tb.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkMigrateOpen opens a data directory of 1,000,000 posts of
// version 1 (a snapshot, no log after it) plainly with version 1 and, in
// the same iteration, with version 2, which adds a column with a
// default: the migrating open reads the old rows, rewrites each, loads
// them, writes the new schema.json and a snapshot of the migrated rows.
// Each open starts from a fresh copy of the directory (not timed); the
// metrics are each open's time and their ratio.
func BenchmarkMigrateOpen(b *testing.B) {
	n := *migBenchRows
	pristine := filepath.Join(b.TempDir(), "v1")
	buildMigData(b, pristine, n, 0)
	open := func(m *keel.Module, i int, kind string) time.Duration {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), fmt.Sprintf("%s-%d", kind, i))
		copyDirTo(b, pristine, dir)
		goruntime.GC()
		b.StartTimer()
		start := time.Now()
		db, err := keel.Open(dir, m, keel.Options{SnapshotEvery: -1, SnapshotBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		b.StopTimer()
		if got := db.Recovery().Rows; got != uint64(n) {
			b.Fatalf("%s open found %d rows, want %d", kind, got, n)
		}
		if (db.Recovery().Migration != nil) != (kind == "migrate") {
			b.Fatalf("%s open: migration %v", kind, db.Recovery().Migration)
		}
		db.Close()
		os.RemoveAll(dir)
		b.StartTimer()
		return d
	}
	var plain, migrate time.Duration
	i := 0
	for b.Loop() {
		// Alternate which goes first, so that neither always runs on the
		// other's garbage.
		if i%2 == 0 {
			plain += open(v1.Module, i, "plain")
			migrate += open(v2.Module, i, "migrate")
		} else {
			migrate += open(v2.Module, i, "migrate")
			plain += open(v1.Module, i, "plain")
		}
		i++
	}
	b.ReportMetric(plain.Seconds()/float64(i), "plain-s/op")
	b.ReportMetric(migrate.Seconds()/float64(i), "migrate-s/op")
	b.ReportMetric(float64(migrate)/float64(plain), "migrate/plain")
}
