package main

import (
	"errors"
	"math/rand/v2"
	"os"

	"github.com/dgraph-io/badger/v4"

	"github.com/keeldb/keel/table"
)

const titleW6 = "W6: next sequence value alone, 1 caller"

// runSequence is W6: Keel's table.Sequence against badger's Sequence, both
// handing out values from memory and moving a persisted boundary once per
// batch of 1024 values.
func (e *env) runSequence() {
	logf("%s", titleW6)
	add := func(system, note string, res *result) {
		res.workload, res.title, res.mode, res.system, res.note = "W6", titleW6, "batched", system, note
		e.rep.add(res)
	}
	seq, err := table.NewSequence("event", "event_id_seq", table.SeqParams[uint64]{Batch: 1024})
	if err != nil {
		add("keel", "", &result{err: err})
	} else {
		st, err := measure(1, e.fast, func(int, *rand.Rand) error {
			_, _, err := seq.Next()
			return err
		})
		res := throughput(st)
		if err != nil {
			res = &result{err: err}
		}
		add("keel", "table.Sequence.Next, batch 1024; the boundary move is logged by the commit that uses the value, not timed here", res)
	}
	add("badger", "Sequence.Next, bandwidth 1024, SyncWrites: true (each lease is a synced write)", e.badgerSeq())
}

func (e *env) badgerSeq() *result {
	dir, err := e.tempDir("badger")
	if err != nil {
		return &result{err: err}
	}
	defer os.RemoveAll(dir)
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		return &result{err: err}
	}
	seq, err := db.GetSequence([]byte("event_id_seq"), 1024)
	if err != nil {
		return &result{err: errors.Join(err, db.Close())}
	}
	st, err := measure(1, e.fast, func(int, *rand.Rand) error {
		_, err := seq.Next()
		return err
	})
	err = errors.Join(err, seq.Release(), db.Close())
	if err != nil {
		return &result{err: err}
	}
	return throughput(st)
}
