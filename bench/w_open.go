package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tidwall/buntdb"

	"github.com/keeldb/keel"
)

const titleW7 = "W7: open and recover a database of loaded rows"

// runOpen is W7: load e.loadRows events in transactions of loadBatch rows,
// close, and time the open that brings every row back: Keel from its log
// alone and from a snapshot, buntdb from its append-only file.
func (e *env) runOpen() {
	title := fmt.Sprintf("%s (%d rows)", titleW7, e.loadRows)
	e.rep.w7title = title
	logf("%s", title)
	for _, f := range []struct {
		system string
		run    func(dir string) (time.Duration, string, error)
	}{
		{"keel (log only)", e.keelOpen(false)},
		{"keel (snapshot)", e.keelOpen(true)},
		{"buntdb", e.buntOpen},
	} {
		res := func() *result {
			dir, err := e.tempDir("open")
			if err != nil {
				return &result{err: err}
			}
			defer os.RemoveAll(dir)
			d, note, err := f.run(dir)
			if err != nil {
				return &result{err: err}
			}
			return &result{unit: seconds, value: d.Seconds(), note: note}
		}()
		res.workload, res.title, res.mode, res.system = "W7", title, Durable.String(), f.system
		e.rep.add(res)
	}
}

func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		p := dir + "/" + en.Name()
		if en.IsDir() {
			n += dirSize(p)
			continue
		}
		if fi, err := en.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func (e *env) keelOpen(snapshot bool) func(dir string) (time.Duration, string, error) {
	return func(dir string) (time.Duration, string, error) {
		opts := keel.Options{Sync: keel.SyncAlways, SnapshotBytes: -1, SnapshotEvery: -1}
		k := newKeelModule()
		d, err := keel.Open(dir, k.Module, opts)
		if err != nil {
			return 0, "", err
		}
		s := &keelStore{k: k, db: d, ctx: context.Background()}
		t0 := time.Now()
		err = s.LoadEvents(e.loadRows)
		load := time.Since(t0)
		if err == nil && snapshot {
			err = d.Snapshot()
		}
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, "", err
		}
		size := dirSize(dir)
		k = newKeelModule()
		label := "open-log"
		if snapshot {
			label = "open-snapshot"
		}
		stop := e.profile("keel", label)
		t0 = time.Now()
		d, err = keel.Open(dir, k.Module, opts)
		took := time.Since(t0)
		stop()
		if err != nil {
			return 0, "", err
		}
		s = &keelStore{k: k, db: d, ctx: context.Background()}
		n, err := s.Count()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		if err == nil && uint64(n) != e.loadRows {
			err = fmt.Errorf("recovered %d rows, want %d", n, e.loadRows)
		}
		r := d.Recovery()
		from := "no snapshot"
		if r.Snapshot != "" {
			from = "snapshot " + baseName(r.Snapshot)
		}
		return took, fmt.Sprintf("%.1f MB on disk; %s and %d log entries replayed; the load took %.2f s",
			float64(size)/1e6, from, r.Entries, load.Seconds()), err
	}
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

func (e *env) buntOpen(dir string) (time.Duration, string, error) {
	s, err := openBunt(dir, Durable)
	if err != nil {
		return 0, "", err
	}
	t0 := time.Now()
	err = s.LoadEvents(e.loadRows)
	load := time.Since(t0)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", err
	}
	size := dirSize(dir)
	t0 = time.Now()
	db, err := buntdb.Open(dir + "/bunt.db")
	took := time.Since(t0)
	if err != nil {
		return 0, "", err
	}
	bs := &buntStore{db: db}
	n, err := bs.Count()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil && uint64(n) != e.loadRows {
		err = fmt.Errorf("recovered %d rows, want %d", n, e.loadRows)
	}
	return took, fmt.Sprintf("%.1f MB append-only file; the load took %.2f s", float64(size)/1e6, load.Seconds()), err
}
