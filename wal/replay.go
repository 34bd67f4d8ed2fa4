package wal

import (
	"fmt"

	"github.com/keeldb/keel/table"
)

// replayer applies log records and snapshots to a database through
// table's replay and load: never through reducer code.
type replayer struct {
	db    *table.DB
	fp    Fingerprint       // the schema every record must carry
	names map[string]string // table names, to look up names without allocating
	txs   uint64
	rows  uint64

	tx     *table.Tx // the open replay transaction, or nil
	lastTx uint64    // id of the last transaction replayed
}

func newReplayer(db *table.DB, fp Fingerprint) *replayer {
	r := &replayer{db: db, fp: fp, names: map[string]string{}}
	for _, s := range db.Schemas() {
		r.names[s.TableName()] = s.TableName()
	}
	return r
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
	body := data[:len(data)-4]
	if fp := recordSchema(body); fp != r.fp {
		return &ForeignError{File: file, Index: index, Found: fp, Want: r.fp}
	}
	d := newDecoder(body, 1+8)
	txid := d.Uvarint()
	d.Varint()    // time
	d.Bytes(true) // reducer
	d.Bytes(true) // caller
	if d.failed() {
		return d.done()
	}
	if r.tx == nil {
		t, err := tx.BeginAt(r.db, txid)
		if err != nil {
			return err
		}
		r.tx = t
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
			if err := tx.Replay(r.tx, name, uint8(op), old, new); err != nil {
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

// finish commits what is open and moves the database's transaction ids
// past the last one replayed.
func (r *replayer) finish() error {
	r.commit()
	if r.lastTx == 0 {
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
