package keel

import (
	"io"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// WriteSchema writes module m's schema as JSON (wal.ModuleSchema): its
// tables as a data directory's schema.json stores them, and what it
// declares for migrations (Module.Migrations' old shapes, Module.Dropped
// and opts.Drop). `keel migrate plan DIR FILE` reads it and shows what
// Open would migrate in DIR, without a module and without changing
// anything. Only the module's own program can describe it, so a program
// that opens a module offers the schema behind a flag:
//
//	schema := flag.Bool("keel-schema", false, "write the module's schema for keel migrate plan and exit")
//	flag.Parse()
//	if *schema {
//		if err := keel.WriteSchema(os.Stdout, blog.Module, opts); err != nil {
//			log.Fatal(err)
//		}
//		return
//	}
//
// and an operator runs `app -keel-schema > app.schema.json` and `keel
// migrate plan data app.schema.json` (or pipes it: `app -keel-schema |
// keel migrate plan data -`) before deploying app. A nil module, or one
// without a name, is refused as Open refuses it (table.ErrSchema).
func WriteSchema(w io.Writer, m *Module, opts Options) error {
	if m == nil {
		return kerr.Errorf("keel: write schema: nil module: %w", table.ErrSchema)
	}
	if m.Name == "" {
		return kerr.Errorf("keel: write schema: the module has no name: %w", table.ErrSchema)
	}
	o := opts.withDefaults().wal()
	o.Dropped = append(append([]string(nil), m.Dropped...), opts.Drop...)
	o.Migrations = m.Migrations
	_, err := wal.NewModuleSchema(m.Name, m.Tables, o).WriteTo(w)
	return err
}

// Plan is a migration: what Open changes in a data directory whose
// schema is not the module's (wal.Plan). Recovery().Migration reports the
// one Open applied.
type Plan = wal.Plan
