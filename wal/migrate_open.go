package wal

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"

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
		p.keepRetired(stored.Retired)
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
		if fp == stored.Fingerprint {
			p, err := planMigration(cur.Module, fp, ps.Tables, cur, d)
			p.keepRetired(stored.Retired)
			return p, o.Migrations, true, err
		}
		// Data of a schema of schema.json's history: a migration to
		// schema.json's schema passed its commit point and stopped before
		// its snapshot (or the snapshot after it is damaged). Only that
		// migration may finish it: migrating the data straight to a later
		// schema would skip what the steps between did (a column dropped
		// and then added again would keep its old values).
		if plan != nil {
			return nil, nil, true, unfinished(fp, stored, cur)
		}
		// Only the last schema of the history is the one that migration
		// started from. Data of an earlier one (read where the snapshot
		// that held the data in the schemas between is damaged or was
		// replaced) would skip the migrations between them.
		if last := stored.History[len(stored.History)-1]; fp != last.Fingerprint {
			return nil, nil, true, kerr.Errorf("keel: the data directory holds data of schema %s of its history, older than schema %s, from which it was migrated to schema %s (schema.json's): "+
				"the data in schema %s is gone (its snapshot is damaged or missing), and migrating the older data straight to schema %s would skip the migrations between them: %w",
				fp, last.Fingerprint, stored.Fingerprint, last.Fingerprint, stored.Fingerprint, ErrCorrupt)
		}
		// That migration was consented to at its commit point: the tables
		// and columns it drops need no word of the module again (an
		// Options.Drop given to that open alone).
		hd := d
		hd.Dropped = append(droppedBy(ps.Tables, cur.Tables), d.Dropped...)
		p, err := planMigration(cur.Module, fp, ps.Tables, cur, hd)
		p.keepRetired(stored.Retired) // the migration's own retired sequences among them
		return p, o.Migrations, true, err
	}, nil
}

// droppedBy names the tables of from that to does not have, and the
// columns of from's tables that to's table of the same name does not
// have ("table.column"), as Declarations.Dropped names them.
func droppedBy(from, to []table.TableInfo) []string {
	var names []string
	for _, ft := range from {
		i := slices.IndexFunc(to, func(t table.TableInfo) bool { return t.Name == ft.Name })
		if i < 0 {
			names = append(names, ft.Name)
			continue
		}
		for _, c := range ft.Columns {
			if !slices.ContainsFunc(to[i].Columns, func(tc table.Column) bool { return tc.Name == c.Name }) {
				names = append(names, ft.Name+"."+c.Name)
			}
		}
	}
	return names
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

// unfinished is Open's error for data of schema fp, of stored's history,
// whose migration to stored's schema a module of another schema (cur's)
// would skip: only stored's module may finish it.
func unfinished(fp Fingerprint, stored, cur storedSchema) error {
	return kerr.Errorf("keel: the data directory holds data of schema %s, whose migration to schema %s (schema.json's, module %s) has not finished; "+
		"open it with that schema's module once to finish it, then with module %s (schema %s): %w",
		fp, stored.Fingerprint, stored.Module, cur.Module, cur.Fingerprint, ErrSchemaChanged)
}
