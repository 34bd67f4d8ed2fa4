package wal

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
)

// declarations returns what the options declare about the module's past.
func (o Options) declarations() Declarations {
	d := Declarations{Dropped: o.Dropped}
	for _, m := range o.Migrations {
		d.Migrations = append(d.Migrations, m.Info())
	}
	return d
}

// migrationOf plans the migration of schema.json's schema stored to the
// module's cur (nil when they are the same) and returns the function
// that plans the migration of data of any older schema of the directory
// (nil when it has none). A change that needs the module's word fails
// here, before any data is read.
func migrationOf(stored, cur storedSchema, o Options) (*Plan, func(Fingerprint) (*Plan, []table.Migration, bool, error), error) {
	d := o.declarations()
	known := map[Fingerprint]pastSchema{}
	for _, h := range stored.History {
		known[h.Fingerprint] = h
	}
	var plan *Plan
	if stored.Fingerprint != cur.Fingerprint {
		known[stored.Fingerprint] = pastSchema{Fingerprint: stored.Fingerprint, Module: stored.Module, Tables: stored.Tables}
		p, err := planMigration(cur.Module, stored.Fingerprint, stored.Tables, cur, d)
		if err != nil {
			return nil, nil, err
		}
		plan = p
	}
	delete(known, cur.Fingerprint) // the module's schema is not an older one
	if len(known) == 0 {
		return plan, nil, nil
	}
	return plan, func(fp Fingerprint) (*Plan, []table.Migration, bool, error) {
		ps, ok := known[fp]
		if !ok {
			return nil, nil, false, nil
		}
		p, err := planMigration(cur.Module, fp, ps.Tables, cur, d)
		return p, o.Migrations, true, err
	}, nil
}

// withHistory returns cur with stored's history and stored itself, whose
// last entry is through, as its history, oldest first, each fingerprint
// once and cur's not at all.
func withHistory(cur, stored storedSchema, through uint64) storedSchema {
	past := append(append([]pastSchema(nil), stored.History...),
		pastSchema{Fingerprint: stored.Fingerprint, Module: stored.Module, Tables: stored.Tables, Through: through})
	cur.History = nil
	for i, h := range past {
		dup := h.Fingerprint == cur.Fingerprint
		for _, later := range past[i+1:] {
			dup = dup || later.Fingerprint == h.Fingerprint
		}
		if !dup {
			cur.History = append(cur.History, h)
		}
	}
	return cur
}

// logPlan logs the migration Open applies, one line per step.
func logPlan(logger *slog.Logger, p *Plan, readOnly bool) {
	if p == nil {
		return
	}
	msg := "keel: migrating the data directory to the module's schema"
	if readOnly {
		msg = "keel: read-only open: migrating the data in memory only, the directory is left as it is"
	}
	logger.Info(msg, "module", p.Module, "from", p.From, "to", p.To, "steps", len(p.Steps),
		"rewrite", p.Rewrite, "check", p.Check)
	for _, s := range p.Steps {
		logger.Info("keel: migration step", "kind", string(s.Kind), "table", s.Table, "name", s.Name, "detail", s.Detail)
	}
}

// migrationSnapshot writes the snapshot that ends a migration: the
// migrated state, in the module's schema, holding every log entry read,
// so that the log goes on in the module's schema after it. It replaces a
// snapshot of the older schema at the same index atomically.
func (l *Log) migrationSnapshot() error {
	v, err := tx.View(l.db)
	if err != nil {
		return err
	}
	st := &snapshotState{view: v, tables: l.tables, seqs: tx.Sequences(l.db), index: l.rec.LastIndex, txid: v.TxID,
		fp: l.fp, schema: l.schema}
	name := snapshotName(st.index)
	tmp := filepath.Join(l.dir, name+".tmp")
	if err := writeSnapshot(tmp, st); err != nil {
		return kerr.Errorf("keel: migration snapshot: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, name)); err != nil {
		os.Remove(tmp)
		return kerr.Errorf("keel: migration snapshot: %w", err)
	}
	if err := l.log.syncDirFn(l.dir); err != nil {
		return kerr.Errorf("keel: migration snapshot: fsync %s: %w", l.dir, err)
	}
	l.snapIndex = st.index
	l.logger.Info("keel: migration snapshot written", "snapshot", name, "index", st.index, "schema", l.fp)
	return l.prune()
}
