package codegen

import (
	"fmt"
	"go/types"
	"strings"
	"unicode"
)

const typeHelp = "use bool, an integer or float type, string, []byte, time.Time, a named type over one of these, or a slice of them"

// classifier turns Go types into column types, writing type expressions
// as the generated file spells them.
type classifier struct {
	pkg    *types.Package
	tables map[*types.TypeName]*tableModel
	qual   types.Qualifier
}

func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// overTime reports whether t is time.Time or a defined type over it.
func overTime(t types.Type) bool {
	if isTime(t) {
		return true
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok || st.NumFields() == 0 {
		return false
	}
	f := st.Field(0)
	return f.Pkg() != nil && f.Pkg().Path() == "time" && f.Name() == "wall"
}

// classify returns t's column type, or an error that says why Keel cannot
// store it. rows allows table row structs (reducer arguments and results).
func (c *classifier) classify(t types.Type, rows bool) (*colType, error) {
	written := t
	t = types.Unalias(t)
	if t == nil || t == types.Typ[types.Invalid] {
		return nil, fmt.Errorf("its type does not resolve; fix the package so it compiles")
	}
	expr := types.TypeString(t, c.qual)
	if tn := c.hidden(t); tn != nil {
		byName := func(p *types.Package) string { return p.Name() }
		if tn.Exported() {
			//lint:ignore ST1005 the message begins with the name Keel
			return nil, fmt.Errorf("Keel cannot store %s: it names %s.%s, and package %s is internal, so the generated file in package %s cannot import it; use a type of a package it can import",
				types.TypeString(written, byName), tn.Pkg().Name(), tn.Name(), tn.Pkg().Path(), c.pkg.Path())
		}
		//lint:ignore ST1005 the message begins with the name Keel
		return nil, fmt.Errorf("Keel cannot store %s: it names %s, which package %s does not export, so the generated file cannot; use an exported type",
			types.TypeString(written, byName), tn.Name(), tn.Pkg().Path())
	}
	if n, ok := t.(*types.Named); ok && rows {
		if tm := c.tables[n.Obj()]; tm != nil {
			return &colType{kind: kRow, row: tm, expr: expr}, nil
		}
	}
	if overTime(t) {
		return &colType{kind: kTime, expr: expr, named: !isTime(t)}, nil
	}
	_, named := t.(*types.Named)
	switch u := t.Underlying().(type) {
	case *types.Basic:
		ct := &colType{expr: expr, named: named, basic: u.Kind()}
		switch u.Kind() {
		case types.Bool:
			ct.kind = kBool
		case types.Int:
			ct.kind = kInt
		case types.Int8, types.Int16, types.Int32, types.Int64:
			ct.kind, ct.bits = kInt, basicBits(u.Kind())
		case types.Uint:
			ct.kind = kUint
		case types.Uint8, types.Uint16, types.Uint32, types.Uint64:
			ct.kind, ct.bits = kUint, basicBits(u.Kind())
		case types.Float32:
			ct.kind, ct.bits = kFloat, 32
		case types.Float64:
			ct.kind, ct.bits = kFloat, 64
		case types.String:
			ct.kind = kString
		default:
			//lint:ignore ST1005 the message begins with the name Keel
			return nil, fmt.Errorf("Keel cannot store %s; %s", expr, typeHelp)
		}
		return ct, nil
	case *types.Slice:
		if b, ok := types.Unalias(u.Elem()).(*types.Basic); ok && b.Kind() == types.Uint8 {
			return &colType{kind: kBytes, expr: expr, named: named}, nil
		}
		el, err := c.classify(u.Elem(), false)
		if err != nil {
			//lint:ignore ST1005 the message begins with the name Keel
			return nil, fmt.Errorf("Keel cannot store %s; %s", expr, typeHelp)
		}
		if el.kind == kSlice {
			//lint:ignore ST1005 the message begins with the name Keel
			return nil, fmt.Errorf("Keel cannot store %s, a slice of slices; use one level of slice, or a table of its own", expr)
		}
		return &colType{kind: kSlice, expr: expr, named: named, elem: el}, nil
	}
	//lint:ignore ST1005 the message begins with the name Keel
	return nil, fmt.Errorf("Keel cannot store %s; %s", expr, typeHelp)
}

// hidden returns the type of another package that t names (through an
// alias, in a type argument or as its element) and that the generated
// file cannot name: one unexported, or of an internal package that c.pkg
// may not import. It returns nil when there is none.
func (c *classifier) hidden(t types.Type) *types.TypeName {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if o := t.Obj(); o.Pkg() != nil && o.Pkg() != c.pkg && (!o.Exported() || !importable(c.pkg.Path(), o.Pkg().Path())) {
			return o
		}
		for a := range t.TypeArgs().Types() {
			if tn := c.hidden(a); tn != nil {
				return tn
			}
		}
	case *types.Slice:
		return c.hidden(t.Elem())
	}
	return nil
}

// importable reports whether package from may import package path under
// the go command's rule for internal packages: a path with an internal
// element is importable only from the tree rooted at its parent.
func importable(from, path string) bool {
	parent := ""
	switch i := strings.LastIndex(path, "/internal/"); {
	case i >= 0:
		parent = path[:i]
	case strings.HasSuffix(path, "/internal"):
		parent = strings.TrimSuffix(path, "/internal")
	case path == "internal" || strings.HasPrefix(path, "internal/"):
		return false // the standard library's, for it alone
	default:
		return true
	}
	return from == parent || strings.HasPrefix(from, parent+"/")
}

func basicBits(k types.BasicKind) int {
	switch k {
	case types.Int8, types.Uint8:
		return 8
	case types.Int16, types.Uint16:
		return 16
	case types.Int32, types.Uint32:
		return 32
	}
	return 64
}

// snake turns a Go name into a snake_case column or table name: ID -> id,
// InvoiceNumber -> invoice_number, HTTPServer -> http_server.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]) ||
				(i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// camel turns a snake_case name into an exported Go name: by_shop_status
// -> ByShopStatus, id -> ID.
func camel(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(s, "_") {
		if p == "" {
			continue
		}
		if u := strings.ToUpper(p); commonInitialisms[u] {
			b.WriteString(u)
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

var commonInitialisms = map[string]bool{"ID": true, "PK": true, "URL": true, "HTTP": true, "UUID": true, "API": true}

// exported returns s with its first letter upper case.
func exported(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
