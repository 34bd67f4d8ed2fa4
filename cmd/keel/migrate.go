package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/wal"
)

// keel migrate plan DIR SCHEMA.json: what Open would migrate.

const migrateHelp = `Show what opening a data directory with a module would migrate, without
opening it: no lock, nothing written, and no data read but the snapshot
Open would load (or the log's first entry) where DIR's last migration
stopped before its snapshot.

commands:
  plan DIR SCHEMA.json   the plan from DIR's schema.json to the module's schema

SCHEMA.json is the module's schema as its own program writes it with
keel.WriteSchema (a -keel-schema flag, see go doc github.com/keeldb/keel
WriteSchema); - reads it from standard input:

  app -keel-schema | keel migrate plan data -

The exit status is 0 when Open would apply the plan (or there is nothing
to migrate), 1 when it would refuse it (each refused change is listed with
how to make it possible), 2 for a usage error. Open refuses too, whatever
the plan, a module none of whose tables DIR has, a module of another
schema for a replica's directory (a replica does not migrate), and, where
DIR's last migration stopped between its commit point and its snapshot, a
module of another schema than that migration's, until that migration's
module has opened DIR once and finished it: the status is 1 and the
error says so. What only the data shows (a unique index the rows break,
a sequence range below the values used, a new sequence that counts the
other way from one retired from its column) is checked by Open itself.`

func migrate(w io.Writer, args []string) error {
	fs := newFlags("keel migrate", "keel migrate plan DIR SCHEMA.json", migrateHelp)
	rest, err := fs.parse(w, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError{"keel migrate: no command; see keel migrate -h"}
	}
	if rest[0] != "plan" {
		return usageError{fmt.Sprintf("keel migrate: unknown command %q; see keel migrate -h", rest[0])}
	}
	fs = newFlags("keel migrate plan", "keel migrate plan DIR SCHEMA.json", migrateHelp)
	a, err := fs.parse(w, rest[1:])
	if err != nil {
		return err
	}
	if len(a) != 2 {
		return usageError{"usage: keel migrate plan DIR SCHEMA.json"}
	}
	return migratePlan(w, a[0], a[1])
}

func migratePlan(w io.Writer, dir, file string) error {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return kerr.Errorf("keel: %w", err)
		}
		defer f.Close()
		r = f
	}
	m, err := wal.ReadModuleSchema(r)
	if err != nil {
		return fmt.Errorf("keel: %s: %s", file, strings.TrimPrefix(err.Error(), "keel: ")) // the CLI prints it
	}
	stored, err := wal.ReadSchema(dir)
	if err != nil {
		return err
	}
	p, perr := wal.PlanFor(dir, m)
	if p == nil {
		return perr
	}
	fmt.Fprintf(w, "data directory %s: module %s, schema %s\n", dir, stored.Module, stored.Fingerprint)
	fmt.Fprintf(w, "module %s: schema %s\n", m.Module, m.Fingerprint)
	if p.Empty() {
		fmt.Fprintln(w, "nothing to migrate: the stored schema is the module's")
		return nil
	}
	if p.From != stored.Fingerprint {
		fmt.Fprintf(w, "the migration to schema %s stopped before its snapshot: Open finishes it from schema %s\n", stored.Fingerprint, p.From)
	}
	if len(p.Steps) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "STEP\tTABLE\tNAME\tWHAT")
		for _, s := range p.Steps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Kind, s.Table, s.Name, s.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(p.Rewrite) > 0 {
		fmt.Fprintf(w, "rows rewritten: %s\n", strings.Join(p.Rewrite, ", "))
	} else {
		fmt.Fprintln(w, "no row is rewritten")
	}
	if len(p.Check) > 0 {
		fmt.Fprintf(w, "checked against the stored rows at open: %s\n", strings.Join(p.Check, ", "))
	}
	if perr != nil {
		fmt.Fprintln(w, "Open refuses this migration:")
		for _, line := range strings.Split(perr.Error(), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		return errors.New("keel migrate plan: Open would refuse the migration")
	}
	fmt.Fprintln(w, "Open applies this migration")
	return nil
}
