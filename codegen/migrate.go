package codegen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"
	"time"

	"github.com/keeldb/keel/codec"
)

// What a module declares for schema migrations (see package wal's Plan):
//
//	Status string `db:"default=draft"`       rows stored before the column existed get "draft"
//	//keel:dropped post.body comment          the column body of post and the table comment were dropped on purpose
//	//keel:migrate                            a migration function from an old row shape to a table's rows
//	func MigratePost(old PostV1) (Post, error)

// droppedMarker starts a //keel:dropped line, which may stand anywhere in
// the package's files.
const droppedMarker = "//keel:dropped"

func isDroppedLine(s string) bool {
	return s == droppedMarker || strings.HasPrefix(s, droppedMarker+" ") || strings.HasPrefix(s, droppedMarker+"\t")
}

// migrationModel is one //keel:migrate function.
type migrationModel struct {
	Func  string
	Old   *oldShape
	Table *tableModel
	Err   bool // it returns (T, error), not T
	Pos   token.Position
}

// oldShape is the struct a migration function takes: a table's rows as
// an older version of the module stored them.
type oldShape struct {
	Type string
	Cols []*column
}

// columnDefault checks the default=VALUE option of column c and records
// it in the form codec.ParseJSON reads.
func (p *modParser) columnDefault(t *tableModel, c *column, opts *tagOpts, at token.Pos) {
	raw := *opts.def
	if opts.autoinc != nil {
		p.errorf(at, "field %s of table %s has both autoinc and default; a sequence fills an autoinc column, so drop one of them", c.Field, t.Type)
		return
	}
	v, err := defaultValue(c.Type, raw)
	if err != nil {
		p.errorf(at, "field %s of table %s: default=%s does not fit %s: %s", c.Field, t.Type, raw, c.Type.expr, err)
		return
	}
	k, _ := codec.ParseKind(kindName(c.Type))
	if bytes.Equal(codec.AppendValue(nil, v), codec.AppendValue(nil, zeroValue(k))) {
		return // the zero value is the default of every column
	}
	c.Default = string(codec.AppendJSON(nil, v))
}

// defaultValue parses a default written in a tag for a column of type ct:
// true or false, a Go integer or float literal, a string (bare, or quoted
// as in Go), a time in RFC 3339.
func defaultValue(ct *colType, raw string) (codec.Value, error) {
	k, err := codec.ParseKind(kindName(ct))
	if err != nil {
		return codec.Value{}, err
	}
	text := func() (string, error) {
		if strings.HasPrefix(raw, `"`) {
			s, err := strconv.Unquote(raw)
			if err != nil {
				return "", fmt.Errorf("%s is not a Go string literal; close it with \" and escape quotes inside", raw)
			}
			return s, nil
		}
		return raw, nil
	}
	switch ct.kind {
	case kBool:
		switch raw {
		case "true":
			return codec.BoolValue(true), nil
		case "false":
			return codec.BoolValue(false), nil
		}
		return codec.Value{}, fmt.Errorf("write true or false")
	case kInt, kUint:
		n, ok := parseInt(raw)
		lo, hi := intRange(ct)
		switch {
		case !ok:
			return codec.Value{}, fmt.Errorf("write a Go integer literal")
		case n.Cmp(lo) < 0 || n.Cmp(hi) > 0:
			return codec.Value{}, fmt.Errorf("it is outside the range of %s (%s..%s)", ct.expr, lo, hi)
		case ct.kind == kInt:
			return codec.IntOf(k, n.Int64())
		}
		return codec.UintOf(k, n.Uint64())
	case kFloat:
		f, err := strconv.ParseFloat(strings.ReplaceAll(raw, "_", ""), ct.bits)
		if err != nil {
			return codec.Value{}, fmt.Errorf("write a Go float literal within the range of float%d", ct.bits)
		}
		return codec.FloatOf(k, f)
	case kString, kBytes:
		s, err := text()
		if err != nil {
			return codec.Value{}, err
		}
		if ct.kind == kBytes {
			return codec.BytesValue([]byte(s)), nil
		}
		return codec.StringValue(s), nil
	case kTime:
		s, err := text()
		if err != nil {
			return codec.Value{}, err
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return codec.Value{}, fmt.Errorf("write a time in RFC 3339, e.g. 2024-01-02T15:04:05Z")
		}
		return codec.TimeValue(tm), nil
	case kSlice:
		return codec.Value{}, fmt.Errorf("a slice column takes no default (stored rows get an empty slice); drop default")
	}
	return codec.Value{}, fmt.Errorf("no default for this type")
}

// zeroValue is the zero value of kind k, as a zero Go value encodes.
func zeroValue(k codec.Kind) codec.Value {
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
		v = codec.TimeValue(time.Time{})
	}
	return v
}

// evolution reads what the package declares for migrations: its
// //keel:dropped lines and //keel:migrate functions.
func (p *modParser) evolution(m *module, files []*ast.File, migrates []*ast.FuncDecl) {
	p.dropped(m, files)
	byTable := map[*tableModel]*migrationModel{}
	for _, fd := range migrates {
		mg := p.migration(m, files, fd)
		if mg == nil {
			continue
		}
		if o := byTable[mg.Table]; o != nil {
			p.errorf(fd.Name.Pos(), "migration functions %s and %s both migrate table %s; a table has one, from the shape its data has now, so remove the older one",
				o.Func, mg.Func, mg.Table.Name)
			continue
		}
		byTable[mg.Table] = mg
		m.Migrations = append(m.Migrations, mg)
	}
}

// dropped reads the //keel:dropped lines.
func (p *modParser) dropped(m *module, files []*ast.File) {
	tables := map[string]*tableModel{}
	for _, t := range m.Tables {
		tables[t.Name] = t
	}
	seen := map[string]bool{}
	for _, f := range files {
		if p.fset.Position(f.Pos()).Filename == p.out {
			continue
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if !isDroppedLine(c.Text) {
					continue
				}
				names := strings.Fields(strings.TrimPrefix(c.Text, droppedMarker))
				if len(names) == 0 {
					p.errorf(c.Pos(), "//keel:dropped names nothing; write //keel:dropped TABLE or TABLE.COLUMN, for each table or column whose data a migration may delete")
				}
				for _, n := range names {
					tbl, col, isCol := strings.Cut(n, ".")
					switch t := tables[tbl]; {
					case !identRE.MatchString(tbl) || (isCol && !identRE.MatchString(col)):
						p.errorf(c.Pos(), "//keel:dropped %s is not a table or column name; write TABLE or TABLE.COLUMN, e.g. //keel:dropped post.body", n)
					case seen[n]:
						p.errorf(c.Pos(), "//keel:dropped names %s twice; name it once", n)
					case t != nil && !isCol:
						p.errorf(c.Pos(), "//keel:dropped names table %s, which the module still has (%s); remove the table or the declaration", tbl, t.Type)
					case t != nil && hasColumn(t, col):
						p.errorf(c.Pos(), "//keel:dropped names column %s of table %s, which it still has; remove the field or the declaration", col, tbl)
					default:
						seen[n] = true
						m.Dropped = append(m.Dropped, n)
					}
				}
			}
		}
	}
}

func hasColumn(t *tableModel, name string) bool {
	for _, c := range t.Cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

// migration checks one //keel:migrate function: func F(old O) T or
// func F(old O) (T, error), with O a struct of the package (the old row
// shape) and T a table's row type.
func (p *modParser) migration(m *module, files []*ast.File, fd *ast.FuncDecl) *migrationModel {
	name := fd.Name.Name
	_, rest, pos, _ := marker(fd.Doc)
	sig := "func " + name + "(old OldShape) (Row, error)"
	switch {
	case rest != "":
		p.errorf(pos, "//keel:migrate takes no options; write it alone above func %s", name)
		return nil
	case fd.Recv != nil:
		p.errorf(fd.Name.Pos(), "migration function %s is a method; declare it as a plain function, %s", name, sig)
		return nil
	case fd.Type.TypeParams != nil:
		p.errorf(fd.Name.Pos(), "migration function %s has type parameters; it maps one old shape to one table, so remove them", name)
		return nil
	}
	params := fd.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		p.errorf(fd.Type.Params.Pos(), "migration function %s must take one parameter, a row of the old shape; declare it as %s", name, sig)
		return nil
	}
	pt := types.Unalias(p.info.TypeOf(params[0].Type))
	named, _ := pt.(*types.Named)
	var st *types.Struct
	if named != nil && named.Obj().Pkg() == p.pkg.Types {
		st, _ = named.Underlying().(*types.Struct)
	}
	if st == nil {
		p.errorf(params[0].Type.Pos(), "the parameter of migration function %s must be a struct type declared in the package: the table's rows as the older version stored them (e.g. type PostV1 struct {...})", name)
		return nil
	}
	if t := p.cls.tables[named.Obj()]; t != nil {
		p.errorf(params[0].Type.Pos(), "migration function %s takes %s, a table as it is now; declare the old row shape as a struct of its own and take that", name, t.Type)
		return nil
	}
	res := fd.Type.Results
	mg := &migrationModel{Func: name, Pos: p.position(fd.Name.Pos())}
	switch {
	case res == nil || res.NumFields() == 0 || res.NumFields() > 2:
		p.errorf(fd.Type.Pos(), "migration function %s must return a table row, or a row and an error; declare it as %s", name, sig)
		return nil
	case res.NumFields() == 2 && !types.Identical(p.info.TypeOf(res.List[len(res.List)-1].Type), errorType):
		p.errorf(res.List[len(res.List)-1].Type.Pos(), "the last result of migration function %s must be error; declare it as %s", name, sig)
		return nil
	}
	mg.Err = res.NumFields() == 2
	rt := res.List[0].Type
	ct, err := p.cls.classify(p.info.TypeOf(rt), true)
	if err != nil || ct.kind != kRow {
		p.errorf(rt.Pos(), "migration function %s must return a row of one of the module's tables; declare it as %s", name, sig)
		return nil
	}
	mg.Table = ct.row
	spec := p.typeSpec(files, named.Obj())
	if spec == nil {
		p.errorf(params[0].Type.Pos(), "the old shape %s of migration function %s is not a struct declared in the package's files", named.Obj().Name(), name)
		return nil
	}
	mg.Old = p.oldShape(spec, named.Obj().Name())
	if mg.Old == nil {
		return nil
	}
	if sameColumns(mg.Old.Cols, mg.Table.Cols) {
		p.errorf(params[0].Type.Pos(), "the old shape %s of migration function %s has the columns of table %s as it is now (%s), so it would never run; declare the columns the older version stored",
			mg.Old.Type, name, mg.Table.Name, colList(mg.Old.Cols))
		return nil
	}
	return mg
}

func (p *modParser) typeSpec(files []*ast.File, obj *types.TypeName) *ast.TypeSpec {
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Pos() == obj.Pos() {
					return ts
				}
			}
		}
	}
	return nil
}

// oldShape reads the columns of an old row shape: its fields as a table's
// (name=NAME, db:"-"); other options of its tags are allowed, since it is
// often a copy of the older table struct, and mean nothing here.
func (p *modParser) oldShape(ts *ast.TypeSpec, typ string) *oldShape {
	st, ok := ts.Type.(*ast.StructType)
	if !ok || ts.TypeParams != nil {
		p.errorf(ts.Name.Pos(), "the old shape %s must be a plain struct type", typ)
		return nil
	}
	o := &oldShape{Type: typ}
	nerr := len(p.errs)
	names := map[string]*column{}
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			p.errorf(f.Type.Pos(), "the old shape %s embeds %s; give the field a name", typ, types.ExprString(f.Type))
			continue
		}
		tag, tagPos := "", f.Type.End()
		if f.Tag != nil {
			tagPos = f.Tag.Pos()
			tag, _ = strconv.Unquote(f.Tag.Value)
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
			ct, err := p.cls.classify(p.info.TypeOf(f.Type), false)
			if err != nil {
				p.errorf(f.Type.Pos(), "field %s of the old shape %s: %s, or tag the field db:\"-\"", id.Name, typ, err)
				continue
			}
			c := &column{Field: id.Name, Name: opts.name, Type: ct, Pos: p.position(id.Pos()), TagAt: p.position(tagPos)}
			if c.Name == "" {
				c.Name = snake(id.Name)
			}
			if prev := names[c.Name]; prev != nil {
				p.errorf(id.Pos(), "fields %s and %s of the old shape %s both have the column name %s; set another with db:\"name=NAME\"", prev.Field, id.Name, typ, c.Name)
				continue
			}
			names[c.Name] = c
			o.Cols = append(o.Cols, c)
		}
	}
	if len(p.errs) != nerr {
		return nil
	}
	if len(o.Cols) == 0 {
		p.errorf(ts.Name.Pos(), "the old shape %s has no stored columns", typ)
		return nil
	}
	return o
}

// sameColumns reports whether two column lists have the same names and
// storage kinds in the same order.
func sameColumns(a, b []*column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || kindName(a[i].Type) != kindName(b[i].Type) {
			return false
		}
	}
	return true
}
