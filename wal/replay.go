package wal

import (
	"fmt"

	"github.com/keeldb/keel/table"
)

// replayer applies log records and snapshots to a database through
// table's replay and load: never through reducer code.
type replayer struct {
	db    *table.DB
	fp    Fingerprint       // the module's schema, which records carry
	names map[string]string // table names, to look up names without allocating
	txs   uint64
	rows  uint64

	tx     *table.Tx // the open replay transaction, or nil
	lastTx uint64    // id of the last transaction replayed
	began  uint64    // id of the last replay transaction begun

	// older plans the migration of data of an older schema of the
	// directory (see migrate.go), or says it is foreign: nil without a
	// history.
	older func(fp Fingerprint) (*Plan, []table.Migration, bool, error)
	old   *oldData // the older data being collected, or nil
	// migrated is the plan applied to older data; current reports that
	// data of the module's schema was replayed.
	migrated *Plan
	current  bool
	// through is the last entry written before the directory's last
	// migration, or 0. Data of the module's schema up to it (a snapshot
	// before it, an entry at or before it) is older than that migration:
	// the module's schema is then one of the history too, and reading the
	// data as the module's would skip the migrations since.
	through uint64
}

// premigration returns the error for data of the module's schema found
// in file at log entry index, or in a snapshot of index snap (index 0),
// that is older than the directory's last migration, or nil.
func premigration(file string, index, snap, through uint64, fp Fingerprint) error {
	if through == 0 || (index == 0 && snap >= through) || (index > 0 && index > through) {
		return nil
	}
	return &CorruptError{File: file, Index: index, Reason: fmt.Sprintf(
		"written by schema %s, the module's, before the migration at entry %d: the module's schema is also one of the directory's history, "+
			"and this data is older than the migrations since (the snapshot that held their state is damaged or missing)",
		fp, through)}
}

func newReplayer(db *table.DB, fp Fingerprint) *replayer {
	r := &replayer{db: db, fp: fp, names: map[string]string{}}
	for _, s := range db.Schemas() {
		r.names[s.TableName()] = s.TableName()
	}
	return r
}

// schema makes the replayer ready for data of schema fp, found in file
// at log entry index (0 for a snapshot): the module's, or an older one of
// the directory's, which it migrates. Any other is foreign.
func (r *replayer) schema(file string, index uint64, fp Fingerprint) error {
	if fp == r.fp && index > 0 {
		if err := premigration(file, index, 0, r.through, fp); err != nil {
			return err
		}
	}
	if fp == r.fp {
		if r.old != nil {
			if err := r.migrate(); err != nil {
				return err
			}
		}
		r.current = true
		return nil
	}
	if r.old != nil && r.old.plan.From == fp {
		return nil
	}
	if r.older == nil {
		return &ForeignError{File: file, Index: index, Found: fp, Want: r.fp}
	}
	p, migs, ok, err := r.older(fp)
	switch {
	case !ok:
		return &ForeignError{File: file, Index: index, Found: fp, Want: r.fp}
	case err != nil:
		return err
	case r.current || r.old != nil:
		after := r.fp
		if r.old != nil {
			after = r.old.plan.From
		}
		return &CorruptError{File: file, Index: index, Reason: fmt.Sprintf(
			"written by schema %s of the directory's history after data of schema %s: data of one older schema may only come before the module's",
			fp, after)}
	}
	r.old, r.migrated = newOldData(p, migs), p
	return nil
}

// migrate ends the older data: its tables are rewritten, checked and
// loaded, its sequences restored, in the open replay transaction.
func (r *replayer) migrate() error {
	if r.tx == nil {
		t, err := tx.BeginAt(r.db, r.lastTx)
		if err != nil {
			return err
		}
		r.tx, r.began = t, t.ID()
	}
	n, err := r.old.finish(r.db, r.tx)
	if err != nil {
		return err
	}
	r.rows += n
	r.old = nil
	r.commit()
	return nil
}

func (r *replayer) table(b []byte) (string, error) {
	name, ok := r.names[string(b)]
	if !ok {
		return "", fmt.Errorf("the log names table %q, which the module does not have: %w", b, table.ErrCorruptState)
	}
	return name, nil
}

// replayBatch is how many log entries replay applies in one table
// transaction: a replay that fails is discarded whole, so entries need no
// transaction of their own, and sharing one saves the per-transaction
// work.
const replayBatch = 4096

// apply replays entry index of file, a record that scanSegment checked
// (framing, version, checksum).
func (r *replayer) apply(file string, index uint64, data []byte) error {
	return r.applyBody(file, index, recordSchema(data), data[recordHead:len(data)-4])
}

// undecodable is the error of a record body that does not decode: it
// passed its checksum, so it was written so (a log of another format),
// and matches ErrCorrupt.
func undecodable(err error) error { return fmt.Errorf("record: %w: %w", err, ErrCorrupt) }

// applyBody replays a record's body, from its transaction id up to its
// checksum, written by the schema with fingerprint fp.
func (r *replayer) applyBody(file string, index uint64, fp Fingerprint, body []byte) error {
	if fp != r.fp || r.old != nil || !r.current {
		if err := r.schema(file, index, fp); err != nil {
			return err
		}
	}
	d := newDecoder(body, 0)
	txid := d.Uvarint()
	d.Varint()    // time
	d.Bytes(true) // reducer
	d.Bytes(true) // caller
	if d.failed() {
		return undecodable(d.done())
	}
	if r.tx == nil {
		t, err := tx.BeginAt(r.db, txid)
		if err != nil {
			return err
		}
		r.tx, r.began = t, t.ID()
	}
	r.lastTx = txid
	nt := d.Count()
	for i := 0; i < nt && !d.failed(); i++ {
		b := d.Bytes(true)
		if d.failed() {
			break
		}
		mode, ot := modeNative, (*oldTable)(nil)
		var name string
		var err error
		if r.old != nil {
			name = string(b)
			if mode, err = r.old.mode(name); err != nil {
				return err
			}
			ot = r.old.tables[name]
		} else if name, err = r.table(b); err != nil {
			return err
		}
		nc := d.Count()
		for j := 0; j < nc && !d.failed(); j++ {
			op, old, new := d.change()
			if d.failed() {
				break
			}
			switch mode {
			case modeNative:
				err = tx.Replay(r.tx, name, uint8(op), old, new)
			case modeCollect:
				err = ot.change(op, old, new)
			}
			if err != nil {
				return err
			}
			r.rows++
		}
	}
	seqs := d.seqs(nil)
	if err := d.done(); err != nil {
		return undecodable(err)
	}
	for _, m := range seqs {
		if r.old != nil {
			r.old.seq(m)
			continue
		}
		if err := tx.RestoreSequence(r.db, m); err != nil {
			return err
		}
	}
	r.txs++
	if r.txs%replayBatch == 0 {
		r.commit()
	}
	return nil
}

// commit ends the open replay transaction, if any.
func (r *replayer) commit() {
	if r.tx == nil {
		return
	}
	tx.Commit(r.tx)
	tx.Release(r.db)
	r.tx = nil
}

// finish migrates older data still collected, commits what is open and
// moves the database's transaction ids past the last one replayed.
func (r *replayer) finish() error {
	if r.old != nil {
		if err := r.migrate(); err != nil {
			return err
		}
	}
	r.commit()
	if r.lastTx == 0 || r.began >= r.lastTx {
		// Nothing replayed, or the last replay transaction began at
		// the last id (a batch of one entry): the ids go on from there.
		return nil
	}
	t, err := tx.BeginAt(r.db, r.lastTx)
	if err != nil {
		return err
	}
	tx.Commit(t)
	tx.Release(r.db)
	return nil
}
