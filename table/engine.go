package table

import "github.com/keeldb/keel/internal/engine"

// ops is the transaction lifecycle as Keel's runtime and log take it from
// internal/engine.
type ops = engine.TableOps[DB, Tx, Commit, View, Schema, SeqMove]

func init() {
	engine.RegisterTable(ops{
		NewDB:           func(s []Schema) (*DB, error) { return newDB(s...) },
		Begin:           (*DB).begin,
		BeginAt:         (*DB).beginAt,
		Commit:          (*Tx).commit,
		Rollback:        (*Tx).rollback,
		Undo:            (*Tx).undo,
		Release:         (*DB).release,
		Retain:          (*DB).retain,
		UndoRetained:    (*DB).undoRetained,
		Recycle:         recycle,
		View:            (*DB).view,
		Sequences:       (*DB).sequences,
		RestoreSequence: (*DB).restoreSequence,
		Replay: func(tx *Tx, table string, op uint8, old, new []byte) error {
			return tx.replay(table, Op(op), old, new)
		},
		Load:  (*Tx).load,
		Check: (*DB).check,
	})
}
