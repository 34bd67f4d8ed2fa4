package wal

import (
	"fmt"

	"github.com/keeldb/keel/table"
)

// replayer applies log records and snapshots to a database through
// Tx.Apply and DB.RestoreSequence: never through reducer code.
type replayer struct {
	db    *table.DB
	names map[string]string // table names, to look up names without allocating
	txs   uint64
	rows  uint64

	tx     *table.Tx // the open replay transaction, or nil
	lastTx uint64    // id of the last transaction replayed
}

func newReplayer(db *table.DB) *replayer {
	r := &replayer{db: db, names: map[string]string{}}
	for _, s := range db.Schemas() {
		r.names[s.TableName()] = s.TableName()
	}
	return r
}

func (r *replayer) table(b []byte) (string, error) {
	name, ok := r.names[string(b)]
	if !ok {
		return "", fmt.Errorf("keel: replay: the log names table %q, which the module does not have: %w", b, table.ErrCorruptState)
	}
	return name, nil
}

// replayBatch is how many log entries replay applies in one table
// transaction: a replay that fails is discarded whole, so entries need no
// transaction of their own, and sharing one saves the per-transaction
// work.
const replayBatch = 4096

// apply replays one record that scanSegment checked (framing, version,
// checksum).
func (r *replayer) apply(data []byte) error {
	d := newDecoder(data[:len(data)-4], 1)
	txid := d.Uvarint()
	d.Varint()    // time
	d.Bytes(true) // reducer
	d.Bytes(true) // caller
	if d.failed() {
		return d.done()
	}
	if r.tx == nil {
		tx, err := r.db.BeginAt(txid)
		if err != nil {
			return err
		}
		r.tx = tx
	}
	r.lastTx = txid
	nt := d.Count()
	for i := 0; i < nt && !d.failed(); i++ {
		b := d.Bytes(true)
		if d.failed() {
			break
		}
		name, err := r.table(b)
		if err != nil {
			return err
		}
		nc := d.Count()
		for j := 0; j < nc && !d.failed(); j++ {
			op, old, new := d.change()
			if d.failed() {
				break
			}
			if err := r.tx.Replay(name, op, old, new); err != nil {
				return err
			}
			r.rows++
		}
	}
	seqs := d.seqs(nil)
	if err := d.done(); err != nil {
		return err
	}
	for _, m := range seqs {
		if err := r.db.RestoreSequence(m); err != nil {
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
	r.tx.Commit()
	r.db.Release()
	r.tx = nil
}

// finish commits what is open and moves the database's transaction ids
// past the last one replayed.
func (r *replayer) finish() error {
	r.commit()
	if r.lastTx == 0 {
		return nil
	}
	tx, err := r.db.BeginAt(r.lastTx)
	if err != nil {
		return err
	}
	tx.Rollback()
	return nil
}
