package codegen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/keeldb/keel/table"
)

// fixedImports are the packages generated code may use, by local name.
var fixedImports = map[string]string{
	"bytes":   "bytes",
	"cmp":     "cmp",
	"fmt":     "fmt",
	"iter":    "iter",
	"strings": "strings",
	"time":    "time",
	"context": "context",
	"codec":   "github.com/keeldb/keel/codec",
	"mod":     "github.com/keeldb/keel/mod",
	"reducer": "github.com/keeldb/keel/reducer",
	"table":   "github.com/keeldb/keel/table",
}

type modParser struct {
	pkg     *packages.Package
	fset    *token.FileSet
	info    *types.Info
	out     string
	errs    ErrorList
	cls     *classifier
	imports map[string]string // local name -> path
	byPath  map[string]string // path -> local name
}

func newParser(pkg *packages.Package, out string) *modParser {
	p := &modParser{pkg: pkg, fset: pkg.Fset, info: pkg.TypesInfo, out: out,
		imports: map[string]string{}, byPath: map[string]string{}}
	for n, path := range fixedImports {
		p.imports[n], p.byPath[path] = path, n
	}
	p.cls = &classifier{pkg: pkg.Types, tables: map[*types.TypeName]*tableModel{}, qual: p.qualify}
	return p
}

// qualify names other packages as the generated file imports them.
func (p *modParser) qualify(other *types.Package) string {
	if other == p.pkg.Types {
		return ""
	}
	if n, ok := p.byPath[other.Path()]; ok {
		return n
	}
	n := other.Name()
	for i := 2; p.imports[n] != "" || p.pkg.Types.Scope().Lookup(n) != nil || genLocal(n); i++ {
		n = fmt.Sprintf("%s%d", other.Name(), i)
	}
	p.imports[n], p.byPath[other.Path()] = other.Path(), n
	return n
}

// genLocals are the parameters and local variables of the generated
// code, which would shadow an import of that name where a type expression
// names it (d.Kind(d.Uint(8)) with d the codec.Reader).
var genLocals = map[string]bool{
	"a": true, "b": true, "c": true, "d": true, "n": true, "o": true, "r": true, "t": true, "v": true, "x": true,
	"db": true, "dst": true, "src": true, "tx": true, "lo": true, "hi": true, "row": true, "ctx": true,
	"err": true, "res": true, "caller": true, "conn": true,
}

var loopLocalRE = regexp.MustCompile(`^[esi][0-9]+$`)

// genLocal reports whether n is a name of genLocals or a loop variable of
// the generated code (e1, s1, i1, ...).
func genLocal(n string) bool { return genLocals[n] || loopLocalRE.MatchString(n) }

func (p *modParser) errorf(pos token.Pos, f string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.position(pos), Msg: fmt.Sprintf(f, args...)})
}

func (p *modParser) position(pos token.Pos) token.Position {
	ps := p.fset.Position(pos)
	ps.Filename = relPath(ps.Filename)
	return ps
}

// marker returns the //keel: line of a doc comment: its kind ("table",
// "reducer"), the rest of the line and its position.
func marker(doc *ast.CommentGroup) (kind, rest string, pos token.Pos, ok bool) {
	if doc == nil {
		return "", "", 0, false
	}
	for _, c := range doc.List {
		if !strings.HasPrefix(c.Text, "//keel:") || isDroppedLine(c.Text) {
			continue // //keel:dropped stands anywhere (migrate.go)
		}
		line := strings.TrimPrefix(c.Text, "//keel:")
		kind, rest, _ = strings.Cut(line, " ")
		return kind, strings.TrimSpace(rest), c.Pos(), true
	}
	return "", "", 0, false
}

// spacedMarkerRE matches a marker written with a space after the
// slashes (// keel:table), which Go's directive syntax does not allow.
var spacedMarkerRE = regexp.MustCompile(`^//[ \t]+keel:(table|reducer|migrate|dropped)\b`)

type tableDecl struct {
	ts   *ast.TypeSpec
	opts map[string]string
	pos  token.Pos
}

func (p *modParser) parse() *module {
	m := &module{Pkg: p.pkg.Types.Name()}
	files := append([]*ast.File(nil), p.pkg.Syntax...)
	sort.Slice(files, func(i, j int) bool {
		return p.fset.Position(files[i].Pos()).Filename < p.fset.Position(files[j].Pos()).Filename
	})
	for scopeName := range fixedImports {
		if obj := p.pkg.Types.Scope().Lookup(scopeName); obj != nil {
			p.errorf(obj.Pos(), "package-level name %s clashes with an import of the generated file; rename it", scopeName)
		}
	}
	var tables []tableDecl
	var funcs, migrates []*ast.FuncDecl
	for _, f := range files {
		if p.fset.Position(f.Pos()).Filename == p.out {
			continue
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if m := spacedMarkerRE.FindStringSubmatch(c.Text); m != nil {
					p.errorf(c.Pos(), "// keel:%s has a space after //, so keelgen reads it as a plain comment and ignores it; write //keel:%s with no space", m[1], m[1])
				}
			}
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if len(d.Specs) > 1 {
					// A doc comment above a group belongs to no one spec.
					if kind, _, pos, found := marker(d.Doc); found {
						p.errorf(pos, "//keel:%s stands above a group of %d declarations and marks none of them; move it into the group, to the doc comment of the declaration it marks", kind, len(d.Specs))
					}
				}
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					var doc *ast.CommentGroup
					switch s := s.(type) {
					case *ast.TypeSpec:
						doc = s.Doc
					case *ast.ValueSpec:
						doc = s.Doc
					}
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					kind, rest, pos, found := marker(doc)
					if !found {
						continue
					}
					if kind != "table" {
						p.errorf(pos, "//keel:%s cannot mark a type or value; mark struct types with //keel:table and functions with //keel:reducer", kind)
						continue
					}
					if !ok {
						p.errorf(pos, "//keel:table marks struct types; move it to a type declaration")
						continue
					}
					opts, err := parseMarker("table", rest)
					if err != nil {
						p.errorf(pos, "%s", err)
						continue
					}
					tables = append(tables, tableDecl{ts: ts, opts: opts, pos: pos})
				}
			case *ast.FuncDecl:
				kind, _, pos, found := marker(d.Doc)
				if !found {
					continue
				}
				if kind == "migrate" {
					migrates = append(migrates, d)
					continue
				}
				if kind != "reducer" {
					p.errorf(pos, "//keel:%s cannot mark a function; mark reducers with //keel:reducer", kind)
					continue
				}
				funcs = append(funcs, d)
			}
		}
	}
	names := map[string]*tableModel{}
	gos := map[string]*tableModel{}
	for _, td := range tables {
		t := p.table(td)
		if t == nil {
			continue
		}
		if o := names[t.Name]; o != nil {
			p.errorf(td.ts.Name.Pos(), "table name %s is also the name of %s (%s); give one of them another name with //keel:table name=NAME", t.Name, o.Type, o.Pos)
			continue
		}
		if o := gos[t.Go]; o != nil {
			p.errorf(td.ts.Name.Pos(), "types %s and %s both give generated names starting with %s; rename one", t.Type, o.Type, t.Go)
			continue
		}
		names[t.Name], gos[t.Go] = t, t
		m.Tables = append(m.Tables, t)
	}
	inits := 0
	lifecycle := map[string]string{}
	for _, fd := range funcs {
		r := p.reducer(fd)
		if r == nil {
			continue
		}
		if l := r.Lifecycle; l != "" {
			if o, dup := lifecycle[l]; dup {
				p.errorf(fd.Name.Pos(), "reducer %s is a second %s reducer after %s; a module has at most one, so drop %s from one of them", r.Func, l, o, l)
				continue
			}
			lifecycle[l] = r.Func
		}
		if r.Init {
			inits++
			if inits > 1 {
				p.errorf(fd.Name.Pos(), "reducer %s is a second init reducer; a module has at most one, so drop init from one of them", r.Func)
				continue
			}
		}
		m.Reducers = append(m.Reducers, r)
	}
	for _, t := range m.Tables {
		if t.Schedule == "" {
			continue
		}
		var r *reducerModel
		for _, x := range m.Reducers {
			if x.Func == t.Schedule {
				r = x
			}
		}
		var pos token.Pos
		for _, td := range tables {
			if td.ts.Name.Name == t.Type {
				pos = td.pos
			}
		}
		switch {
		case r == nil:
			p.errorf(pos, "table %s is scheduled to call %s, which is not a reducer of the package; declare //keel:reducer func %s(ctx *Ctx, row %s) error", t.Type, t.Schedule, t.Schedule, t.Type)
		case r.Init || r.Lifecycle != "" || len(r.Params) != 1 || r.Params[0].Type.kind != kRow || r.Params[0].Type.row != t || r.Result != nil:
			p.errs = append(p.errs, &Error{Pos: r.Pos, Msg: fmt.Sprintf(
				"reducer %s is what table %s's rows call, so it must be func %s(ctx *Ctx, row %s) error", r.Func, t.Type, r.Func, t.Type)})
		}
	}
	p.evolution(m, files, migrates)
	p.checkNames(m)
	return m
}

// table builds one table from its struct.
func (p *modParser) table(td tableDecl) *tableModel {
	ts := td.ts
	if ts.Assign.IsValid() {
		p.errorf(ts.Name.Pos(), "table %s is an alias; declare the struct type itself with //keel:table", ts.Name.Name)
		return nil
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		p.errorf(ts.Name.Pos(), "//keel:table marks struct types and %s is not a struct; declare it as type %s struct { ... }", ts.Name.Name, ts.Name.Name)
		return nil
	}
	if ts.TypeParams != nil {
		p.errorf(ts.Name.Pos(), "table %s has type parameters; a table is a plain struct, so remove them", ts.Name.Name)
		return nil
	}
	obj, _ := p.info.Defs[ts.Name].(*types.TypeName)
	if obj == nil {
		p.errorf(ts.Name.Pos(), "table %s does not type-check; fix the package so it compiles", ts.Name.Name)
		return nil
	}
	t := &tableModel{Type: ts.Name.Name, Go: exported(ts.Name.Name), Pos: p.position(ts.Name.Pos())}
	t.Name = td.opts["name"]
	if t.Name == "" {
		t.Name = snake(ts.Name.Name)
	}
	p.cls.tables[obj] = t
	nerr := len(p.errs)

	var pk []*column
	pkHash := map[*column]bool{} // pk columns tagged hash
	type named struct {
		idx   *indexModel
		field string
	}
	own := []*indexModel{}
	byName := map[string]*named{}
	var order []string
	colNames := map[string]*column{}
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			p.errorf(f.Type.Pos(), "table %s embeds %s; a table holds named fields only, so give the field a name", t.Type, types.ExprString(f.Type))
			continue
		}
		ft := p.info.TypeOf(f.Type)
		tag, tagPos := "", f.Type.End()
		if f.Tag != nil {
			tagPos = f.Tag.Pos()
			if s, err := strconv.Unquote(f.Tag.Value); err == nil {
				tag = s
			}
		}
		for _, id := range f.Names {
			t.fields = append(t.fields, fieldGuard{Name: id.Name, Type: p.typeString(ft), Tag: tag})
		}
		for _, id := range f.Names {
			db, err := dbTag(id.Name, tag)
			if err != nil {
				p.errorf(tagPos, "%s", err)
				continue
			}
			opts, err := parseTag(id.Name, db)
			if err != nil {
				p.errorf(tagPos, "%s", err)
				continue
			}
			if opts.skip || id.Name == "_" {
				continue
			}
			ct, err := p.cls.classify(ft, false)
			if err != nil {
				p.errorf(f.Type.Pos(), "field %s of table %s: %s, or tag the field db:\"-\" to leave it out", id.Name, t.Type, err)
				continue
			}
			c := &column{Field: id.Name, Name: opts.name, Type: ct, Pos: p.position(id.Pos()), TagAt: p.position(tagPos)}
			if c.Name == "" {
				c.Name = snake(id.Name)
			}
			if o := colNames[c.Name]; o != nil {
				p.errorf(id.Pos(), "fields %s and %s of table %s both have the column name %s; set another with db:\"name=NAME\"", o.Field, id.Name, t.Type, c.Name)
				continue
			}
			colNames[c.Name] = c
			t.Cols = append(t.Cols, c)
			if opts.autoinc != nil {
				p.sequence(t, c, opts.autoinc, tagPos)
			}
			if opts.def != nil {
				p.columnDefault(t, c, opts, tagPos)
			}
			if opts.pk {
				pk = append(pk, c)
				pkHash[c] = opts.hash
			}
			if opts.schedAt {
				switch {
				case t.SchedAt != nil:
					p.errorf(tagPos, "table %s has two schedule_at fields (%s and %s); a schedule table has one time", t.Type, t.SchedAt.Field, id.Name)
				case c.Type.kind != kTime || c.Type.named:
					p.errorf(tagPos, "field %s of table %s is schedule_at but its type is %s; the time a schedule row runs is a time.Time", id.Name, t.Type, c.Type.expr)
				default:
					t.SchedAt = c
				}
			}
			if opts.schedEvery {
				switch {
				case t.SchedEvery != nil:
					p.errorf(tagPos, "table %s has two schedule_every fields (%s and %s); a schedule table has one interval", t.Type, t.SchedEvery.Field, id.Name)
				case c.Type.expr != "time.Duration":
					p.errorf(tagPos, "field %s of table %s is schedule_every but its type is %s; the interval of a schedule row is a time.Duration", id.Name, t.Type, c.Type.expr)
				default:
					t.SchedEvery = c
				}
			}
			add := func(name string, unique bool) {
				if name == "" {
					own = append(own, &indexModel{Name: c.Name, Go: "By" + exported(c.Field), Cols: []*column{c}, Unique: unique,
						Hash: unique && opts.hash && !opts.pk, Pos: c.TagAt})
					return
				}
				n := byName[name]
				if n == nil {
					n = &named{idx: &indexModel{Name: name, Go: "By" + camel(strings.TrimPrefix(name, "by_")), Unique: unique, Pos: c.TagAt}, field: id.Name}
					byName[name] = n
					order = append(order, name)
				}
				if n.idx.Unique != unique {
					kinds := map[bool]string{true: "unique", false: "index"}
					p.errorf(tagPos, "index %s is %s=%s on field %s but %s=%s on field %s; use one kind for every field of the index", name, kinds[n.idx.Unique], name, n.field, kinds[unique], name, id.Name)
					return
				}
				for _, o := range n.idx.Cols {
					if o == c {
						p.errorf(tagPos, "field %s names index %s twice; name it once", id.Name, name)
						return
					}
				}
				n.idx.Cols = append(n.idx.Cols, c)
			}
			for _, u := range opts.unique {
				add(u, true)
			}
			for _, x := range opts.index {
				add(x, false)
			}
		}
	}
	if len(t.Cols) == 0 && len(p.errs) == nerr {
		p.errorf(ts.Name.Pos(), "table %s stores no columns; add a field without db:\"-\"", t.Type)
		return nil
	}
	if len(pk) > 0 {
		t.Primary = &indexModel{Name: "pk", Go: "ByPK", Cols: pk, Unique: true, Primary: true, Hash: pkHash[pk[0]], Pos: pk[0].TagAt}
		if len(pk) == 1 {
			t.Primary.Go = "By" + exported(pk[0].Field)
		}
		for _, c := range pk[1:] {
			if pkHash[c] != t.Primary.Hash {
				p.errs = append(p.errs, &Error{Pos: c.TagAt, Msg: fmt.Sprintf(
					"fields %s and %s of the primary key of table %s disagree on hash; tag every pk field of a hash primary key with hash, or none",
					pk[0].Field, c.Field, t.Type)})
			}
		}
	}
	t.Schedule = td.opts["schedule"]
	_, t.Public = td.opts["public"]
	switch {
	case t.Schedule != "" && t.SchedAt == nil && len(p.errs) == nerr:
		p.errorf(td.pos, "table %s is a schedule table (schedule=%s) without a time: tag a time.Time field db:\"schedule_at\"", t.Type, t.Schedule)
	case t.Schedule == "" && (t.SchedAt != nil || t.SchedEvery != nil):
		p.errorf(td.pos, "table %s has schedule_at or schedule_every fields but no reducer to call: mark it //keel:table schedule=REDUCER", t.Type)
	case t.SchedAt != nil:
		// The scheduler finds the next row through an index on its time.
		for _, ix := range own {
			if len(ix.Cols) == 1 && ix.Cols[0] == t.SchedAt && !ix.Unique {
				t.SchedAtIndex = ix
			}
		}
		if t.SchedAtIndex == nil {
			t.SchedAtIndex = &indexModel{Name: t.SchedAt.Name, Go: "By" + exported(t.SchedAt.Field), Cols: []*column{t.SchedAt}, Pos: t.SchedAt.TagAt}
			own = append(own, t.SchedAtIndex)
		}
	}
	t.Indexes = own
	for _, n := range order {
		t.Indexes = append(t.Indexes, byName[n].idx)
	}
	all := t.Indexes
	if t.Primary != nil {
		all = append([]*indexModel{t.Primary}, all...)
	}
	seen := map[string]*indexModel{}
	seenGo := map[string]*indexModel{}
	for _, ix := range all {
		if t.Primary == nil && ix.Name == "rows" {
			p.errs = append(p.errs, &Error{Pos: ix.Pos, Msg: fmt.Sprintf(
				"table %s has no primary key, so its whole-row key is named %s_rows, and index rows would have that name too; rename the index with index=NAME or unique=NAME, or mark a key with db:\"pk\"",
				t.Type, t.Name)})
			continue
		}
		if o := seen[ix.Name]; o != nil {
			p.errs = append(p.errs, &Error{Pos: ix.Pos, Msg: fmt.Sprintf(
				"table %s has two indexes named %s (the other is at %s:%d:%d); rename one with index=NAME or unique=NAME",
				t.Type, ix.Name, o.Pos.Filename, o.Pos.Line, o.Pos.Column)})
			continue
		}
		if o := seenGo[ix.Go]; o != nil {
			p.errs = append(p.errs, &Error{Pos: ix.Pos, Msg: fmt.Sprintf(
				"indexes %s and %s of table %s both get the accessor %s; rename one with index=NAME or unique=NAME", o.Name, ix.Name, t.Type, ix.Go)})
			continue
		}
		seen[ix.Name], seenGo[ix.Go] = ix, ix
		for _, c := range ix.Cols {
			what := "index " + ix.Name
			if ix.Primary {
				what = "the primary key"
			}
			switch c.Type.kind {
			case kSlice:
				p.errs = append(p.errs, &Error{Pos: c.TagAt, Msg: fmt.Sprintf(
					"field %s is a slice (%s) and cannot be part of %s of table %s; keys must be single values, so drop the option or keep the values in a table of their own",
					c.Field, c.Type.expr, what, t.Type)})
			case kFloat:
				p.errs = append(p.errs, &Error{Pos: c.TagAt, Msg: fmt.Sprintf(
					"field %s is a float (%s) and cannot be part of %s of table %s, since NaN and -0 have no stable order; key on an integer (e.g. cents) or a string instead",
					c.Field, c.Type.expr, what, t.Type)})
			}
		}
	}
	if t.Primary == nil {
		for _, c := range t.Cols {
			if c.Type.kind == kSlice {
				p.errs = append(p.errs, &Error{Pos: c.Pos, Msg: fmt.Sprintf(
					"table %s has no primary key, so Keel orders whole rows, and field %s is a slice that has no order; mark a key with db:\"pk\"",
					t.Type, c.Field)})
			}
		}
	}
	if len(p.errs) != nerr {
		return nil
	}
	return t
}

func (p *modParser) typeString(t types.Type) string {
	if t == nil {
		return "invalid"
	}
	return types.TypeString(t, p.qualify)
}

// sequence validates the autoinc parameters of column c, with the same
// rules the runtime applies when it opens the module.
func (p *modParser) sequence(t *tableModel, c *column, a *autoincOpts, at token.Pos) {
	ct := c.Type
	if ct.kind != kInt && ct.kind != kUint {
		p.errorf(at, "field %s is %s and cannot be autoinc: a sequence fills integers only; make the field an integer type or drop autoinc", c.Field, ct.expr)
		return
	}
	lo, hi := intRange(ct)
	s := &seqModel{col: c, start: a.start, min: a.min, max: a.max, noCycle: a.noCycle, advance: a.advance}
	for _, v := range []struct {
		name string
		n    *big.Int
	}{{"start", a.start}, {"min", a.min}, {"max", a.max}} {
		if v.n != nil && (v.n.Cmp(lo) < 0 || v.n.Cmp(hi) > 0) {
			p.errorf(at, "autoinc %s=%s on field %s is outside the range of %s (%s..%s); choose a value inside it", v.name, v.n, c.Field, ct.expr, lo, hi)
			return
		}
		// The bounds are written into keel_gen.go as constants of the
		// column's type, and an int or uint is 32 bits on some targets:
		// a bound past that would not compile there.
		wide := "int64"
		if ct.kind == kUint {
			wide = "uint64"
		}
		if plo, phi := portableRange(ct); v.n != nil && (v.n.Cmp(plo) < 0 || v.n.Cmp(phi) > 0) {
			p.errorf(at, "autoinc %s=%s on field %s is outside the range %s has on 32-bit targets (%s..%s), where the generated code would not compile; make the field %s or choose a value inside it", v.name, v.n, c.Field, ct.expr, plo, phi, wide)
			return
		}
	}
	if a.increment != nil {
		if !a.increment.IsInt64() || a.increment.Sign() == 0 {
			p.errorf(at, "autoinc increment=%s on field %s must be a non-zero 64-bit integer; use a step such as 1 or -1", a.increment, c.Field)
			return
		}
		s.increment = a.increment.Int64()
	}
	if a.batch != nil {
		if !a.batch.IsUint64() || a.batch.Sign() == 0 {
			p.errorf(at, "autoinc batch=%s on field %s must be a positive 64-bit integer; leave it out for the default of %d", a.batch, c.Field, table.DefaultBatch)
			return
		}
		s.batch = a.batch.Uint64()
	}
	if err := checkSeq(ct, t.Name, seqName(t, c), s); err != nil {
		rule := err.Error()
		var spe *table.SeqParamError
		if e, ok := err.(*table.SeqParamError); ok {
			spe = e
			rule = spe.Rule
		}
		p.errorf(at, "autoinc on field %s: %s; change start, min, max or increment so the range holds the start and excludes 0", c.Field, rule)
		return
	}
	c.seq = s
}

func seqName(t *tableModel, c *column) string { return t.Name + "_" + c.Name + "_seq" }

func intRange(ct *colType) (lo, hi *big.Int) {
	bits := ct.bits
	if bits == 0 {
		bits = strconv.IntSize
	}
	one := big.NewInt(1)
	if ct.kind == kUint {
		return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(one, uint(bits)), one)
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, uint(bits-1)), one)
	return new(big.Int).Neg(new(big.Int).Add(hi, one)), hi
}

// portableRange is the range of ct on every target Go builds for: for int
// and uint that of their 32-bit size, for the sized types their own.
func portableRange(ct *colType) (lo, hi *big.Int) {
	if ct.bits != 0 {
		return intRange(ct)
	}
	c := *ct
	c.bits = 32
	return intRange(&c)
}

func checkSeq(ct *colType, tbl, name string, s *seqModel) error {
	switch ct.basic {
	case types.Int:
		return trySeq[int](tbl, name, s)
	case types.Int8:
		return trySeq[int8](tbl, name, s)
	case types.Int16:
		return trySeq[int16](tbl, name, s)
	case types.Int32:
		return trySeq[int32](tbl, name, s)
	case types.Int64:
		return trySeq[int64](tbl, name, s)
	case types.Uint:
		return trySeq[uint](tbl, name, s)
	case types.Uint8:
		return trySeq[uint8](tbl, name, s)
	case types.Uint16:
		return trySeq[uint16](tbl, name, s)
	case types.Uint32:
		return trySeq[uint32](tbl, name, s)
	case types.Uint64:
		return trySeq[uint64](tbl, name, s)
	}
	return fmt.Errorf("no integer type")
}

func trySeq[T table.Integer](tbl, name string, s *seqModel) error {
	conv := func(n *big.Int) T {
		if n.Sign() < 0 {
			return T(n.Int64())
		}
		return T(n.Uint64())
	}
	var sp table.SeqParams[T]
	if s.start != nil {
		sp.Start, sp.HasStart = conv(s.start), true
	}
	if s.min != nil {
		sp.Min, sp.HasMin = conv(s.min), true
	}
	if s.max != nil {
		sp.Max, sp.HasMax = conv(s.max), true
	}
	sp.Increment, sp.NoCycle, sp.Advance, sp.Batch = s.increment, s.noCycle, s.advance, s.batch
	_, err := table.NewSequence(tbl, name, sp)
	return err
}

var errorType = types.Universe.Lookup("error").Type()

// reducer builds one reducer from its function.
func (p *modParser) reducer(fd *ast.FuncDecl) *reducerModel {
	_, rest, pos, _ := marker(fd.Doc)
	opts, err := parseMarker("reducer", rest)
	if err != nil {
		p.errorf(pos, "%s", err)
		return nil
	}
	name := fd.Name.Name
	r := &reducerModel{Func: name, Pos: p.position(fd.Name.Pos())}
	_, r.Init = opts["init"]
	for _, l := range []string{"connect", "disconnect"} {
		if _, ok := opts[l]; ok {
			r.Lifecycle = l
		}
	}
	sig := "func " + name + "(ctx *Ctx, ...) error"
	if r.Init || r.Lifecycle != "" {
		sig = "func " + name + "(ctx *Ctx) error"
	}
	if fd.Recv != nil {
		p.errorf(fd.Name.Pos(), "reducer %s is a method; a reducer is a plain function, so declare it as %s", name, sig)
		return nil
	}
	if fd.Type.TypeParams != nil {
		p.errorf(fd.Name.Pos(), "reducer %s has type parameters; a reducer takes concrete types, so remove them", name)
		return nil
	}
	params := fd.Type.Params.List
	if len(params) == 0 || !isCtxParam(params[0].Type) {
		at := fd.Type.Params.Pos()
		if len(params) > 0 {
			at = params[0].Pos()
		}
		p.errorf(at, "the first parameter of reducer %s must be ctx *Ctx; declare it as %s", name, sig)
		return nil
	}
	nerr := len(p.errs)
	fields := map[string]bool{}
	idx := 0
	for i, f := range params {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for j := 0; j < n; j++ {
			if i == 0 && j == 0 {
				idx++
				continue
			}
			if i == 0 || isCtxParam(f.Type) {
				at := f.Type.Pos()
				if len(f.Names) > 0 {
					at = f.Names[j].Pos()
				}
				p.errorf(at, "reducer %s takes a second *Ctx; declare the context once, as the first parameter", name)
				continue
			}
			pname := fmt.Sprintf("arg%d", idx)
			if len(f.Names) > 0 && f.Names[j].Name != "_" {
				pname = f.Names[j].Name
			}
			idx++
			if _, ok := f.Type.(*ast.Ellipsis); ok {
				p.errorf(f.Type.Pos(), "reducer %s is variadic; take a slice instead, e.g. %s []T", name, pname)
				continue
			}
			ct, err := p.cls.classify(p.info.TypeOf(f.Type), true)
			if err != nil {
				p.errorf(f.Type.Pos(), "parameter %s of reducer %s: %s, or a table row", pname, name, err)
				continue
			}
			field := exported(pname)
			if fields[field] || field == "_" {
				field = fmt.Sprintf("Arg%d", idx-1)
				for fields[field] { // a parameter named so already
					field += "_"
				}
			}
			fields[field] = true
			r.Params = append(r.Params, param{Name: pname, Field: field, Type: ct})
		}
	}
	res := fd.Type.Results
	switch {
	case res == nil || res.NumFields() == 0 || res.NumFields() > 2:
		p.errorf(fd.Type.Pos(), "reducer %s must return error or (T, error); declare it as %s", name, sig)
	case !types.Identical(p.info.TypeOf(res.List[len(res.List)-1].Type), errorType):
		p.errorf(res.List[len(res.List)-1].Type.Pos(), "the last result of reducer %s must be error; declare it as %s", name, sig)
	case res.NumFields() == 2:
		rt := res.List[0].Type
		ct, err := p.cls.classify(p.info.TypeOf(rt), true)
		if err != nil {
			p.errorf(rt.Pos(), "the result of reducer %s: %s, or a table row", name, err)
			break
		}
		r.Result = ct
	}
	if r.Init && (len(r.Params) > 0 || r.Result != nil) {
		p.errorf(fd.Name.Pos(), "init reducer %s runs with no caller, so it takes no arguments and returns only error; declare it as %s", name, sig)
	}
	if r.Lifecycle != "" && (len(r.Params) > 0 || r.Result != nil) {
		p.errorf(fd.Name.Pos(), "%s reducer %s runs when a client %ss, with the client as ctx.Caller, so it takes no arguments and returns only error; declare it as %s",
			r.Lifecycle, name, r.Lifecycle, sig)
	}
	if len(p.errs) != nerr {
		return nil
	}
	return r
}

func isCtxParam(e ast.Expr) bool {
	s, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == "Ctx"
}

// genName is a package-level name the generated file declares, with what
// it belongs to and where that is declared.
type genName struct {
	name, what string
	pos        token.Position
}

// generated returns the package-level names the generated file declares,
// in the order it declares their owners.
func generated(m *module) []genName {
	var g []genName
	add := func(what string, pos token.Position, names ...string) {
		for _, n := range names {
			g = append(g, genName{n, what, pos})
		}
	}
	add("the module", token.Position{}, "Ctx", "DB", "DBOf", "ViewDB", "ViewOf", "Client", "NewClient", "AsyncClient", "BatchClient", "Module", "keelNoneCodec")
	for _, t := range m.Tables {
		what := "table " + t.Type
		add(what, t.Pos, t.Go+"Def", t.Go+"Table", t.Go+"Reader",
			"keelAppend"+t.Go, "keelRead"+t.Go, "keelDecode"+t.Go, "keelNormalize"+t.Go, "keelClone"+t.Go, pkKeyVar(t))
		for _, ix := range t.allIndexes() {
			add(what, t.Pos, t.Go+ix.Go+"Index", keyVar(t, ix))
			if len(ix.Cols) > 1 {
				add(what, t.Pos, t.Go+ix.Go+"Reader")
				if ix.Unique || ix.Hash {
					add(what, t.Pos, t.Go+ix.Go)
				}
			}
		}
	}
	for _, r := range m.Reducers {
		what := "reducer " + r.Func
		add(what, r.Pos, r.Func+"Reducer")
		if !r.Init {
			add(what, r.Pos, r.Func+"Args")
		}
	}
	for _, mg := range m.Migrations {
		add("migration function "+mg.Func, mg.Pos, "keelMigrate"+mg.Func)
		add("old shape "+mg.Old.Type, mg.Pos, "keelDecodeOld"+mg.Old.Type)
	}
	return g
}

// generatedNames returns the package-level names the generated file
// declares, each with what it belongs to.
func (p *modParser) generatedNames(m *module) map[string]string {
	g := map[string]string{}
	for _, n := range generated(m) {
		if _, dup := g[n.name]; !dup {
			g[n.name] = n.what
		}
	}
	return g
}

// checkNames reports declarations of the package that the generated file
// would redeclare, generated names that two tables, reducers or
// migrations would both declare, and reducers whose client method would
// clash.
func (p *modParser) checkNames(m *module) {
	scope := p.pkg.Types.Scope()
	gen := p.generatedNames(m)
	names := make([]string, 0, len(gen))
	for n := range gen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if obj := scope.Lookup(n); obj != nil && obj.Pos().IsValid() {
			p.errorf(obj.Pos(), "%s is a name keelgen generates for %s; rename your declaration", n, gen[n])
		}
	}
	first := map[string]genName{}
	pairs := map[[2]string]bool{}
	for _, n := range generated(m) {
		o, dup := first[n.name]
		if !dup {
			first[n.name] = n
			continue
		}
		if pair := [2]string{o.what, n.what}; o.what != n.what && !pairs[pair] && scope.Lookup(n.name) == nil {
			pairs[pair] = true
			p.errs = append(p.errs, &Error{Pos: n.pos, Msg: fmt.Sprintf(
				"%s and %s would both get the generated name %s; rename one of them, or the index or field the name comes from", o.what, n.what, n.name)})
		}
	}
	for _, r := range m.Reducers {
		switch r.Func {
		case "View", "As", "Conn", "Go", "Batch", "Caller", "In", "DB", "Net", "Subscribe", "Close",
			"Query", "Identity", "Token", "OnTransaction", "Submit", "Do", "SubmitAll":
			p.errorf(p.pkg.Types.Scope().Lookup(r.Func).Pos(), "reducer %s would clash with the Client or Remote method of that name; rename the reducer", r.Func)
		case "c":
			p.errorf(p.pkg.Types.Scope().Lookup(r.Func).Pos(), "reducer c would clash with the field c of the generated AsyncClient; rename the reducer")
		case "a":
			// The generated binding calls the reducer where a is its arguments.
			if !r.Init {
				p.errorf(p.pkg.Types.Scope().Lookup(r.Func).Pos(), "reducer a would be shadowed by the argument a of its generated binding; rename the reducer")
			}
		case "row":
			for _, t := range m.Tables {
				if t.Schedule == r.Func {
					p.errorf(p.pkg.Types.Scope().Lookup(r.Func).Pos(), "reducer row would be shadowed by the argument row of the schedule of table %s that calls it; rename the reducer", t.Type)
					break
				}
			}
		}
	}
}

// allIndexes returns the primary key (if any) and the secondary indexes.
func (t *tableModel) allIndexes() []*indexModel {
	if t.Primary == nil {
		return t.Indexes
	}
	return append([]*indexModel{t.Primary}, t.Indexes...)
}
