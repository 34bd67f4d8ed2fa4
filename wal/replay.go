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

// apply replays one record that scanSegment checked (framing, version,
// checksum).
func (r *replayer) apply(data []byte) error {
	d := decoder{b: data[:len(data)-4], off: 1}
	txid := d.uvarint()
	d.varint() // time
	d.bytes()  // reducer
	d.bytes()  // caller
	if d.err != nil {
		return d.err
	}
	tx, err := r.db.BeginAt(txid)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	nt := d.count()
	for i := 0; i < nt && d.err == nil; i++ {
		name, err := r.table(d.bytes())
		if err != nil {
			return err
		}
		nc := d.count()
		for j := 0; j < nc && d.err == nil; j++ {
			op, old, new := d.change()
			if d.err != nil {
				break
			}
			if err := tx.Apply(name, op, old, new); err != nil {
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
	tx.Commit()
	r.db.Release()
	r.txs++
	return nil
}
