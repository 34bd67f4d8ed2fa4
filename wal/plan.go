package wal

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
)

// Plan is a migration: what opening a data directory with a module
// changes, from the schema its data was written with to the module's.
// Open computes it, logs it, applies it and reports it in
// Recovery.Migration; PlanFor computes it without opening anything.
type Plan struct {
	Module   string
	From, To Fingerprint
	Steps    []Step
	// Rewrite lists the tables whose rows are re-encoded (a column added,
	// dropped, reordered or converted, or a migration function); the
	// other tables keep their rows' bytes.
	Rewrite []string
	// Check lists the unique indexes (TABLE_NAME) that the rows are
	// checked against at open, since the migration adds them or changes
	// their rows.
	Check []string

	tables map[string]*tablePlan // by table name, for the tables of both schemas
	// retired are schema.json's retired sequences (see keepRetired).
	retired []retiredSeq
}

// keepRetired gives the plan schema.json's retired sequences: a sequence
// it adds starts past those of its table (seqmigrate.go). Those of a
// table the stored schema does not have are of a table dropped before
// (a table re-created with its name is a new table): they are ignored.
func (p *Plan) keepRetired(r []retiredSeq) {
	p.retired = nil
	for _, x := range r {
		if tp := p.tables[x.Table]; tp != nil && tp.old != nil {
			p.retired = append(p.retired, x)
		}
	}
	for _, tp := range p.tables {
		tp.retired = nil
		for _, x := range p.retired {
			if x.Table == tp.name {
				tp.retired = append(tp.retired, x)
			}
		}
	}
}

// retiredAfter returns the retired sequences schema.json keeps after the
// migration: schema.json's, and those the migration dropped, one per
// table, column and direction, the farthest; those of a table the
// migration drops go with it.
func (p *Plan) retiredAfter() []retiredSeq {
	var out []retiredSeq
	for _, x := range p.retired {
		if p.tables[x.Table].cur != nil {
			out = append(out, x)
		}
	}
	names := make([]string, 0, len(p.tables))
	for name := range p.tables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, x := range p.tables[name].retiring {
			out = addRetired(out, x)
		}
	}
	return out
}

// addRetired adds x to rs, replacing the entry of its table, column and
// direction when x is past it.
func addRetired(rs []retiredSeq, x retiredSeq) []retiredSeq {
	for i, r := range rs {
		if r.Table != x.Table || r.Column != x.Column || (r.Increment > 0) != (x.Increment > 0) {
			continue
		}
		a, _ := new(big.Int).SetString(r.Next, 10)
		b, _ := new(big.Int).SetString(x.Next, 10)
		if c := b.Cmp(a); (x.Increment > 0 && c > 0) || (x.Increment < 0 && c < 0) {
			rs[i] = x
		}
		return rs
	}
	return append(rs, x)
}

// StepKind is the kind of one step of a migration.
type StepKind string

// The steps a migration is made of. Open applies all of them on its own
// except DropTable and DropColumn, which need the module's word
// (//keel:dropped or Options.Dropped), and MigrateRows, which runs the
// module's //keel:migrate function.
const (
	AddTable       StepKind = "add table"
	DropTable      StepKind = "drop table"
	AddColumn      StepKind = "add column"
	DropColumn     StepKind = "drop column"
	WidenColumn    StepKind = "widen column"
	RetypeColumn   StepKind = "retype column" // another Go type of the same storage kind: no data change
	ReorderColumns StepKind = "reorder columns"
	ChangeDefault  StepKind = "change default"
	MigrateRows    StepKind = "migrate rows"
	AddIndex       StepKind = "add index"
	AddUnique      StepKind = "add unique index"
	ChangeIndex    StepKind = "change index"
	DropIndex      StepKind = "drop index"
	AddSequence    StepKind = "add sequence"
	ChangeSequence StepKind = "change sequence"
	DropSequence   StepKind = "drop sequence"
)

// Step is one change of a migration.
type Step struct {
	Kind   StepKind `json:"kind"`
	Table  string   `json:"table"`
	Name   string   `json:"name,omitempty"` // the column, index, sequence or migration function
	Detail string   `json:"detail"`         // what it does, in words
}

func (s Step) String() string {
	what := s.Table
	if s.Name != "" {
		what += "." + s.Name
	}
	return fmt.Sprintf("%-16s %s: %s", s.Kind, what, s.Detail)
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return p == nil || p.From == p.To }

// String describes the plan on several lines.
func (p *Plan) String() string {
	if p.Empty() {
		return "no migration: the stored schema is the module's"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "migration of module %s from schema %s to %s", p.Module, p.From, p.To)
	if len(p.Rewrite) > 0 {
		fmt.Fprintf(&b, " (rows rewritten: %s)", strings.Join(p.Rewrite, ", "))
	} else {
		b.WriteString(" (no row is rewritten)")
	}
	for _, s := range p.Steps {
		b.WriteString("\n  " + s.String())
	}
	if len(p.Steps) == 0 {
		b.WriteString("\n  (only the fingerprint changes)")
	}
	return b.String()
}

// tablePlan is how the rows of one table change.
type tablePlan struct {
	name     string
	old, cur *table.TableInfo // nil: the table is added (old) or dropped (cur)
	oldKinds []codec.Kind     // nil when the stored description has no kinds
	curKinds []codec.Kind
	// ops builds a row of cur from a row of old, one op per column of
	// cur; nil when a stored row is already a row of cur.
	ops []colOp
	mig *table.MigrationInfo // the migration function that rewrites the rows, or nil
	// uniques are the positions in cur.Indexes of the unique indexes the
	// rows are checked against.
	uniques []int
	// pkChanged reports that the primary key's columns changed: the old
	// rows' keys are not the new ones.
	pkChanged bool
	// retired are schema.json's retired sequences of the table; retiring
	// are the sequences the migration drops, with their boundaries
	// (migrateSeqs sets them).
	retired, retiring []retiredSeq
}

// rewrites reports whether the table's rows are re-encoded.
func (tp *tablePlan) rewrites() bool { return tp.ops != nil || tp.mig != nil }

// colOp builds one column of a new row.
type colOp struct {
	src  int    // the old column it comes from, or -1 for def
	conv conv   // how its value is converted
	def  []byte // the encoded default, for an added column
}

// conv is a lossless conversion of a stored value.
type conv uint8

const (
	convNone    conv = iota // the same bytes
	convUintInt             // uvarint to zig-zag varint
	convFloat64             // float32 to float64
)

// Declarations are what a module says about its schema's past, beyond
// its tables: the tables and columns it dropped on purpose and its
// migration functions.
type Declarations struct {
	// Dropped names dropped tables ("comment") and columns
	// ("post.body"): their data is deleted by the migration.
	Dropped    []string
	Migrations []table.MigrationInfo
}

func (d Declarations) dropped(tbl, col string) bool {
	name := tbl
	if col != "" {
		name += "." + col
	}
	return slices.Contains(d.Dropped, name)
}

func (d Declarations) migration(tbl string) *table.MigrationInfo {
	for i := range d.Migrations {
		if d.Migrations[i].Table == tbl {
			return &d.Migrations[i]
		}
	}
	return nil
}

// planMigration computes the migration of data written with the tables
// from (fingerprint fromFP) to the module's schema to. A change that Open
// does not apply on its own is a *SchemaChangeError (several are
// joined).
func planMigration(module string, fromFP Fingerprint, from []table.TableInfo, to storedSchema, d Declarations) (*Plan, error) {
	p := &Plan{Module: module, From: fromFP, To: to.Fingerprint, tables: map[string]*tablePlan{}}
	var refused []error
	refuse := func(e *SchemaChangeError) { refused = append(refused, e) }
	cur := map[string]*table.TableInfo{}
	for i := range to.Tables {
		cur[to.Tables[i].Name] = &to.Tables[i]
	}
	old := map[string]*table.TableInfo{}
	for i := range from {
		t := &from[i]
		old[t.Name] = t
		if cur[t.Name] == nil {
			if d.dropped(t.Name, "") {
				p.Steps = append(p.Steps, Step{Kind: DropTable, Table: t.Name, Detail: "dropped with its rows and the boundaries schema.json keeps of its dropped sequences, as the module declares; " +
					"a table created later with its name is a new table"})
				p.tables[t.Name] = &tablePlan{name: t.Name, old: t}
				continue
			}
			refuse(&SchemaChangeError{Table: t.Name, Change: "table removed from the module",
				Fix: fmt.Sprintf("to delete it and its rows, declare //keel:dropped %s in the module or name it in keel.Options.Drop; "+
					"to rename it, keep its stored name with //keel:table name=%s", t.Name, t.Name)})
		}
	}
	for i := range to.Tables {
		t := &to.Tables[i]
		o := old[t.Name]
		if o == nil {
			p.Steps = append(p.Steps, Step{Kind: AddTable, Table: t.Name, Detail: "created empty"})
			p.tables[t.Name] = &tablePlan{name: t.Name, cur: t}
			continue
		}
		tp, steps, errs := planTable(o, t, d)
		p.tables[t.Name] = tp
		p.Steps = append(p.Steps, steps...)
		for _, e := range errs {
			refuse(e)
		}
		if tp.rewrites() {
			p.Rewrite = append(p.Rewrite, t.Name)
		}
		for _, u := range tp.uniques {
			p.Check = append(p.Check, t.Indexes[u].Name)
		}
	}
	switch len(refused) {
	case 0:
		return p, nil
	case 1:
		return p, refused[0]
	}
	return p, errors.Join(refused...)
}

// planTable compares one table's stored description o with the module's
// t.
func planTable(o, t *table.TableInfo, d Declarations) (*tablePlan, []Step, []*SchemaChangeError) {
	tp := &tablePlan{name: t.Name, old: o, cur: t}
	var steps []Step
	var refused []*SchemaChangeError
	step := func(c StepKind, name, f string, args ...any) {
		steps = append(steps, Step{Kind: c, Table: t.Name, Name: name, Detail: fmt.Sprintf(f, args...)})
	}
	tp.oldKinds, _ = kindsOf(o)
	var kerr error
	tp.curKinds, kerr = kindsOf(t)

	// Rows: a migration function whose old shape is the stored one, or
	// the automatic changes.
	if m := d.migration(t.Name); m != nil && sameShape(m.Old, o.Columns) {
		tp.mig = m
		step(MigrateRows, m.Func, "every row rewritten by %s from the old shape %s to %s",
			m.Func, columnNames(o.Columns), columnNames(t.Columns))
	} else {
		ops, colSteps, errs := planColumns(o, t, d)
		steps = append(steps, colSteps...)
		refused = append(refused, errs...)
		if m != nil && (len(errs) > 0 || ops != nil) {
			note := fmt.Sprintf("migration %s does not apply: its old shape has columns %s, the stored table %s",
				m.Func, describeColumns(m.Old), describeColumns(o.Columns))
			for _, e := range errs {
				e.Fix += "; " + note
			}
		}
		tp.ops = ops
	}
	if tp.rewrites() && (tp.oldKinds == nil || kerr != nil) {
		refused = append(refused, &SchemaChangeError{Table: t.Name, Change: "rows must be rewritten but the stored description has no column kinds",
			Fix: "the description was written by hand: give every column a Kind (see table.Column)"})
	}

	// Indexes: Load builds every index afresh; a unique index is checked
	// against the rows when it is new or its rows change.
	oi := map[string]table.IndexInfo{}
	for _, x := range o.Indexes {
		oi[x.Name] = x
	}
	for i, x := range t.Indexes {
		prev, had := oi[x.Name]
		delete(oi, x.Name)
		check := false
		switch {
		case !had && (x.Unique || x.Primary):
			step(AddUnique, x.Name, "%s, checked against the stored rows", indexString(x))
			check = true
		case !had:
			step(AddIndex, x.Name, "%s, built from the stored rows", indexString(x))
		case indexString(prev) != indexString(x):
			check = x.Unique && (!prev.Unique || !slices.Equal(prev.Columns, x.Columns))
			more := ""
			if check {
				more = ", checked against the stored rows"
			}
			step(ChangeIndex, x.Name, "from %s to %s%s", indexString(prev), indexString(x), more)
		}
		if i == 0 && (!had || !slices.Equal(prev.Columns, x.Columns)) {
			tp.pkChanged = true
			check = true
		}
		if x.Unique && tp.mig != nil {
			check = true // the function may change any value
		}
		if check {
			tp.uniques = append(tp.uniques, i)
		}
	}
	for _, x := range o.Indexes {
		if _, gone := oi[x.Name]; gone {
			step(DropIndex, x.Name, "%s dropped", indexString(x))
		}
	}
	if tp.uniques != nil && (tp.oldKinds == nil || kerr != nil) {
		refused = append(refused, &SchemaChangeError{Table: t.Name, Change: "a unique index must be checked but the stored description has no column kinds",
			Fix: "the description was written by hand: give every column a Kind (see table.Column)"})
	}

	// Sequences: the persisted boundary carries over (see seqmigrate.go).
	os := map[string]table.SequenceInfo{}
	for _, s := range o.Sequences {
		os[s.Name] = s
	}
	for _, s := range t.Sequences {
		prev, had := os[s.Name]
		delete(os, s.Name)
		switch {
		case !had:
			more := ""
			if tp.mig != nil {
				more = fmt.Sprintf("; migration function %s rewrites the table, so it also starts past the values of every other sequence dropped from the table "+
					"in its direction (the function may have moved them to any column)", tp.mig.Func)
			}
			step(AddSequence, s.Name, "%s; it starts past the values handed out by the sequences dropped from column %s or from a column the table no longer has "+
				"(schema.json keeps their boundaries), and on a table with rows after the largest value of column %s; "+
				"it is refused if one of them counted the other way or handed out values beyond its range%s", sequenceString(s), s.Column, s.Column, more)
		case sequenceString(prev) != sequenceString(s):
			if (prev.Increment > 0) != (s.Increment > 0) {
				refused = append(refused, &SchemaChangeError{Table: t.Name, Column: s.Column,
					Change: fmt.Sprintf("sequence %s turned from increment %d to %d", s.Name, prev.Increment, s.Increment),
					Fix:    "a sequence cannot change direction: it would hand out values it already used; keep the sign of its increment, or use a new column"})
				continue
			}
			more := ""
			if prev.Column != s.Column {
				more = fmt.Sprintf(", nor below the values the sequences dropped from column %s handed out", s.Column)
			}
			if tp.mig != nil {
				more += fmt.Sprintf("; migration function %s rewrites the table, so it also stays past the values of every sequence dropped from the table "+
					"in its direction (the function may have moved them to any column)", tp.mig.Func)
			}
			step(ChangeSequence, s.Name, "from %s to %s; it resumes at its persisted boundary, never below a value it handed out%s",
				sequenceString(prev), sequenceString(s), more)
		}
	}
	for _, s := range o.Sequences {
		if _, gone := os[s.Name]; gone {
			more := ""
			if _, kept := findColumn(t, s.Column); !kept {
				more = fmt.Sprintf("; column %s is gone (a migration function may have renamed it), so this holds for a sequence on any column of the table", s.Column)
			}
			step(DropSequence, s.Name, "%s dropped; schema.json keeps its boundary, and a sequence added to column %s, now or later, starts past the values it handed out, "+
				"or is refused if it counts the other way or its range ends before them%s", sequenceString(s), s.Column, more)
		}
	}
	return tp, steps, refused
}

// planColumns compares the columns of o and t: the ops that build a row
// of t from a row of o (nil when the rows stay as they are), the steps
// and the refused changes.
func planColumns(o, t *table.TableInfo, d Declarations) ([]colOp, []Step, []*SchemaChangeError) {
	var steps []Step
	var refused []*SchemaChangeError
	step := func(c StepKind, name, f string, args ...any) {
		steps = append(steps, Step{Kind: c, Table: t.Name, Name: name, Detail: fmt.Sprintf(f, args...)})
	}
	pos := map[string]int{}
	for i, c := range o.Columns {
		pos[c.Name] = i
	}
	ops := make([]colOp, len(t.Columns))
	identity := len(o.Columns) == len(t.Columns)
	last, reordered := -1, false
	for j, c := range t.Columns {
		i, had := pos[c.Name]
		if !had {
			def, what, err := defaultBytes(c)
			if err != nil {
				refused = append(refused, &SchemaChangeError{Table: t.Name, Column: c.Name,
					Change: fmt.Sprintf("column %s (%s) added with default %s", c.Name, c.Type, c.Default),
					Fix:    fmt.Sprintf("the default does not fit the column: %v; fix db:\"default=...\" and run go generate", err)})
			}
			ops[j] = colOp{src: -1, def: def}
			identity = false
			step(AddColumn, c.Name, "%s at position %d; stored rows get %s", c.Type, j+1, what)
			continue
		}
		oc := o.Columns[i]
		ok, kf, kt := colKind(oc), colKind(c), true
		cv, widens := widening(ok, kf)
		switch {
		case ok == kf:
			if oc.Type != c.Type {
				step(RetypeColumn, c.Name, "from %s to %s, both stored as %s: no data change", oc.Type, c.Type, kf)
			}
		case widens && ok.Valid() && kf.Valid():
			step(WidenColumn, c.Name, "from %s to %s: every stored value fits", oc.Type, c.Type)
		default:
			kt = false
			refused = append(refused, &SchemaChangeError{Table: t.Name, Column: c.Name,
				Change: fmt.Sprintf("column %s retyped from %s (%s) to %s (%s)", c.Name, oc.Type, kindText(ok), c.Type, kindText(kf)),
				Fix: fmt.Sprintf("only widening an integer (or float32 to float64) is automatic; declare the old row shape and "+
					"a //keel:migrate function from it to %s that converts the column", t.Name)})
		}
		if oc.Default != c.Default {
			step(ChangeDefault, c.Name, "from %s to %s: stored rows keep their values", orZero(oc.Default), orZero(c.Default))
		}
		if !kt {
			cv = convNone
		}
		ops[j] = colOp{src: i, conv: cv}
		if i != j || cv != convNone {
			identity = false
		}
		if i < last {
			reordered = true
		}
		last = i
	}
	if reordered {
		step(ReorderColumns, "", "from %s to %s", columnNames(o.Columns), columnNames(t.Columns))
	}
	for _, c := range o.Columns {
		if _, kept := findColumn(t, c.Name); kept {
			continue
		}
		identity = false
		if d.dropped(t.Name, c.Name) {
			step(DropColumn, c.Name, "%s dropped with its values, as the module declares", c.Type)
			continue
		}
		refused = append(refused, &SchemaChangeError{Table: t.Name, Column: c.Name,
			Change: fmt.Sprintf("column %s (%s) removed from the module", c.Name, c.Type),
			Fix: fmt.Sprintf("to delete it and its values, declare //keel:dropped %s.%s in the module or name %s.%s in keel.Options.Drop; "+
				"to rename it, declare the old row shape and a //keel:migrate function from it to %s", t.Name, c.Name, t.Name, c.Name, t.Name)})
	}
	if identity {
		return nil, steps, refused
	}
	return ops, steps, refused
}

func findColumn(t *table.TableInfo, name string) (table.Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return table.Column{}, false
}

// colKind is a column's storage kind: its Kind, or for a description
// written by hand without one, the kind its Go type names (uint64,
// string...); KindInvalid when neither says.
func colKind(c table.Column) codec.Kind {
	s := c.Kind
	if s == "" {
		s = c.Type
		if s == "[]byte" {
			s = "bytes"
		}
	}
	k, err := codec.ParseKind(s)
	if err != nil {
		return codec.KindInvalid
	}
	return k
}

func kindText(k codec.Kind) string {
	if !k.Valid() {
		return "no kind"
	}
	return k.String()
}

// kindsOf returns the storage kinds of t's columns, or an error naming a
// column without one.
func kindsOf(t *table.TableInfo) ([]codec.Kind, error) {
	ks := make([]codec.Kind, len(t.Columns))
	for i, c := range t.Columns {
		if ks[i] = colKind(c); !ks[i].Valid() {
			return nil, fmt.Errorf("keel: table %s: column %s has no storage kind", t.Name, c.Name)
		}
	}
	return ks, nil
}

// widening reports whether every value of kind from is a value of kind to
// and how it converts.
func widening(from, to codec.Kind) (conv, bool) {
	switch {
	case from == to:
		return convNone, true
	case from.IsList() && to.IsList():
		c, ok := widening(from.Elem(), to.Elem())
		return convNone, ok && c == convNone // lists convert only when their bytes stay
	case from.IsSigned() && to.IsSigned() && to.Bits() >= from.Bits():
		return convNone, true // zig-zag varints of any width
	case from.IsUnsigned() && to.IsUnsigned() && to.Bits() >= from.Bits():
		return convNone, true
	case from.IsUnsigned() && to.IsSigned() && to.Bits() > from.Bits():
		return convUintInt, true
	case from == codec.KindFloat32 && to == codec.KindFloat64:
		return convFloat64, true
	}
	return convNone, false
}

// sameShape reports whether a migration's old columns are the stored
// ones: the same names and storage kinds in the same order.
func sameShape(old, stored []table.Column) bool {
	if len(old) != len(stored) {
		return false
	}
	for i := range old {
		if old[i].Name != stored[i].Name || colKind(old[i]) != colKind(stored[i]) {
			return false
		}
	}
	return true
}

func describeColumns(cs []table.Column) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Name+" "+kindText(colKind(c)))
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func orZero(def string) string {
	if def == "" {
		return "the zero value"
	}
	return def
}

// defaultBytes returns the encoding of column c's default and says what
// it is.
func defaultBytes(c table.Column) ([]byte, string, error) {
	k := colKind(c)
	if !k.Valid() {
		return nil, "", fmt.Errorf("column %s has no storage kind", c.Name)
	}
	if c.Default == "" {
		return codec.AppendValue(nil, zeroOf(k)), "the zero value", nil
	}
	v, err := codec.ParseJSON(k, []byte(c.Default))
	if err != nil {
		return nil, "", err
	}
	return codec.AppendValue(nil, v), "the default " + c.Default, nil
}

// zeroOf is the zero value of kind k, encoded as a zero Go value is.
func zeroOf(k codec.Kind) codec.Value {
	var v codec.Value
	switch {
	case k.IsList():
		v, _ = codec.ListValue(k.Elem(), nil)
	case k == codec.KindBool:
		v = codec.BoolValue(false)
	case k.IsSigned():
		v, _ = codec.IntOf(k, 0)
	case k.IsUnsigned():
		v, _ = codec.UintOf(k, 0)
	case k.IsFloat():
		v, _ = codec.FloatOf(k, 0)
	case k == codec.KindString:
		v = codec.StringValue("")
	case k == codec.KindBytes:
		v = codec.BytesValue(nil)
	case k == codec.KindTime:
		v = codec.TimeValue(time0)
	}
	return v
}
