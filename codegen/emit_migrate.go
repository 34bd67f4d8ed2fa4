package codegen

import (
	"fmt"
	"strconv"
	"strings"
)

// columnLiteral is the table.Column literal of c.
func columnLiteral(c *column) string {
	if c.Default == "" {
		return fmt.Sprintf("{Name: %q, Type: %q, Kind: %q}", c.Name, c.Type.expr, kindName(c.Type))
	}
	return fmt.Sprintf("{Name: %q, Type: %q, Kind: %q, Default: %q}", c.Name, c.Type.expr, kindName(c.Type), c.Default)
}

// migrationFields writes the Module fields of the module's migration
// functions and dropped tables and columns.
func (g *emitter) migrationFields() {
	if len(g.m.Migrations) > 0 {
		var ms []string
		for _, mg := range g.m.Migrations {
			ms = append(ms, "keelMigrate"+mg.Func)
		}
		g.p("\tMigrations: []table.Migration{%s},", strings.Join(ms, ", "))
	}
	if len(g.m.Dropped) > 0 {
		var ds []string
		for _, d := range g.m.Dropped {
			ds = append(ds, strconv.Quote(d))
		}
		g.p("\tDropped: []string{%s},", strings.Join(ds, ", "))
	}
}

// migrations writes each migration function's table.Migration and the
// decoder of its old row shape.
func (g *emitter) migrations() {
	decoded := map[string]bool{}
	for _, mg := range g.m.Migrations {
		o, t := mg.Old, mg.Table
		g.p("// keelMigrate%s is the migration function %s: %s rows stored in the", mg.Func, mg.Func, t.Name)
		g.p("// shape of %s, (%s), become %s rows.", o.Type, colList(o.Cols), t.Type)
		g.p("var keelMigrate%s = table.NewMigration(%sDef, %q, []table.Column{", mg.Func, t.Go, mg.Func)
		for _, c := range o.Cols {
			g.p("\t%s,", columnLiteral(c))
		}
		fn := mg.Func
		if !mg.Err {
			fn = fmt.Sprintf("func(o %s) (%s, error) { return %s(o), nil }", o.Type, t.Type, mg.Func)
		}
		g.p("}, keelDecodeOld%s, %s)", o.Type, fn)
		g.p("")
		if decoded[o.Type] {
			continue
		}
		decoded[o.Type] = true
		g.p("// keelDecodeOld%s decodes a row stored in the shape of %s.", o.Type, o.Type)
		g.p("func keelDecodeOld%s(src []byte, r *%s) error {", o.Type, o.Type)
		g.p("\td := codec.NewReader(src)")
		for _, c := range o.Cols {
			g.dec(c.Type, "r."+c.Field, "\t")
		}
		g.p("\treturn d.Err()")
		g.p("}")
		g.p("")
	}
}
