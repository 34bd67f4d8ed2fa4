package wal_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
)

// A table described at run time, for the migration tests: rows are
// codec values, so that a test declares any schema, before and after a
// change, and checks rows against a model of values.

// dynTable describes a table.
type dynTable struct {
	Name    string
	Cols    []dynCol
	PK      []string // the primary key's columns; none for a set
	Indexes []dynIndex
	Seq     *dynSeq // the autoinc column, at most one
}

type dynCol struct {
	Name, Kind string
	Type       string // the Go type the description names; "" is Kind
	Default    string
}

type dynIndex struct {
	Name   string
	Cols   []string
	Unique bool
}

// dynSeq is an autoinc column with its parameters; nil ones default.
type dynSeq struct {
	Col             string
	Start, Min, Max *int64
	Increment       int64
	Batch           uint64
	NoCycle         bool
}

func i64(v int64) *int64 { return &v }

// dynRow is a row: its values, with the autoinc column's value in the
// field of its type (a sequence fills a typed field).
type dynRow struct {
	V   []codec.Value
	seq seqFields
}

type seqFields struct {
	i8  int8
	i16 int16
	i32 int32
	i64 int64
	i   int
	u8  uint8
	u16 uint16
	u32 uint32
	u64 uint64
	u   uint
}

// dynDef is a table.Def of dynRow with what the tests need to read it.
type dynDef struct {
	*table.Def[dynRow]
	spec   dynTable
	kinds  []codec.Kind
	seqPos int // -1 without autoinc
	ix     []*table.Index[dynRow]
}

func (d *dynDef) get(r *dynRow, i int) codec.Value {
	if i != d.seqPos {
		return r.V[i]
	}
	k := d.kinds[i]
	f := &r.seq
	var v codec.Value
	switch k {
	case codec.KindInt8:
		v, _ = codec.IntOf(k, int64(f.i8))
	case codec.KindInt16:
		v, _ = codec.IntOf(k, int64(f.i16))
	case codec.KindInt32:
		v, _ = codec.IntOf(k, int64(f.i32))
	case codec.KindInt64:
		v, _ = codec.IntOf(k, f.i64)
	case codec.KindInt:
		v, _ = codec.IntOf(k, int64(f.i))
	case codec.KindUint8:
		v, _ = codec.UintOf(k, uint64(f.u8))
	case codec.KindUint16:
		v, _ = codec.UintOf(k, uint64(f.u16))
	case codec.KindUint32:
		v, _ = codec.UintOf(k, uint64(f.u32))
	case codec.KindUint64:
		v, _ = codec.UintOf(k, f.u64)
	case codec.KindUint:
		v, _ = codec.UintOf(k, uint64(f.u))
	}
	return v
}

func (d *dynDef) setSeq(r *dynRow, v codec.Value) {
	f := &r.seq
	switch d.kinds[d.seqPos] {
	case codec.KindInt8:
		f.i8 = int8(v.Int())
	case codec.KindInt16:
		f.i16 = int16(v.Int())
	case codec.KindInt32:
		f.i32 = int32(v.Int())
	case codec.KindInt64:
		f.i64 = v.Int()
	case codec.KindInt:
		f.i = int(v.Int())
	case codec.KindUint8:
		f.u8 = uint8(v.Uint())
	case codec.KindUint16:
		f.u16 = uint16(v.Uint())
	case codec.KindUint32:
		f.u32 = uint32(v.Uint())
	case codec.KindUint64:
		f.u64 = v.Uint()
	case codec.KindUint:
		f.u = uint(v.Uint())
	}
}

// row makes a row of d from values; the autoinc column's value goes to
// its typed field.
func (d *dynDef) row(vals ...codec.Value) dynRow {
	r := dynRow{V: vals}
	if d.seqPos >= 0 {
		d.setSeq(&r, vals[d.seqPos])
	}
	return r
}

// values returns the row's values, the autoinc column's included.
func (d *dynDef) values(r dynRow) []codec.Value {
	out := slices.Clone(r.V)
	if d.seqPos >= 0 {
		out[d.seqPos] = d.get(&r, d.seqPos)
	}
	return out
}

func (d *dynDef) pos(name string) int {
	for i, c := range d.spec.Cols {
		if c.Name == name {
			return i
		}
	}
	panic("no column " + name)
}

func newDyn(spec dynTable) *dynDef {
	d := &dynDef{spec: spec, seqPos: -1}
	def := &table.Def[dynRow]{Name: spec.Name}
	for _, c := range spec.Cols {
		k, err := codec.ParseKind(c.Kind)
		if err != nil {
			panic(err)
		}
		d.kinds = append(d.kinds, k)
		typ := c.Type
		if typ == "" {
			typ = c.Kind
		}
		def.Columns = append(def.Columns, table.Column{Name: c.Name, Type: typ, Kind: c.Kind, Default: c.Default})
	}
	if spec.Seq != nil {
		d.seqPos = d.pos(spec.Seq.Col)
	}
	index := func(name string, cols []string, unique bool) *table.Index[dynRow] {
		var ps []int
		for _, c := range cols {
			ps = append(ps, d.pos(c))
		}
		return &table.Index[dynRow]{Name: name, Columns: cols, Unique: unique,
			Compare: func(a, b *dynRow, n int) int {
				for _, p := range ps[:n] {
					if c := codec.Compare(d.get(a, p), d.get(b, p)); c != 0 {
						return c
					}
				}
				return 0
			},
			Format: func(r *dynRow, n int) string {
				var s []string
				for i, p := range ps[:n] {
					s = append(s, cols[i]+"="+d.get(r, p).String())
				}
				return strings.Join(s, ", ")
			}}
	}
	if len(spec.PK) > 0 {
		def.Primary = index(spec.Name+"_pk", spec.PK, true)
	} else {
		var all []string
		for _, c := range spec.Cols {
			all = append(all, c.Name)
		}
		def.Primary, def.Set = index(spec.Name+"_rows", all, true), true
	}
	d.ix = append(d.ix, def.Primary)
	for _, x := range spec.Indexes {
		ix := index(spec.Name+"_"+x.Name, x.Cols, x.Unique)
		def.Indexes = append(def.Indexes, ix)
		d.ix = append(d.ix, ix)
	}
	if s := spec.Seq; s != nil {
		name := spec.Name + "_" + s.Col + "_seq"
		switch d.kinds[d.seqPos] {
		case codec.KindInt8:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[int8](s), func(r *dynRow) *int8 { return &r.seq.i8 }))
		case codec.KindInt16:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[int16](s), func(r *dynRow) *int16 { return &r.seq.i16 }))
		case codec.KindInt32:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[int32](s), func(r *dynRow) *int32 { return &r.seq.i32 }))
		case codec.KindInt64:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[int64](s), func(r *dynRow) *int64 { return &r.seq.i64 }))
		case codec.KindInt:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[int](s), func(r *dynRow) *int { return &r.seq.i }))
		case codec.KindUint8:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[uint8](s), func(r *dynRow) *uint8 { return &r.seq.u8 }))
		case codec.KindUint16:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[uint16](s), func(r *dynRow) *uint16 { return &r.seq.u16 }))
		case codec.KindUint32:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[uint32](s), func(r *dynRow) *uint32 { return &r.seq.u32 }))
		case codec.KindUint64:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[uint64](s), func(r *dynRow) *uint64 { return &r.seq.u64 }))
		case codec.KindUint:
			def.Sequences = append(def.Sequences, table.NewAutoInc(name, s.Col, params[uint](s), func(r *dynRow) *uint { return &r.seq.u }))
		default:
			panic("autoinc on " + d.kinds[d.seqPos].String())
		}
	}
	def.Encode = func(dst []byte, r *dynRow) []byte {
		for i := range d.kinds {
			dst = codec.AppendValue(dst, d.get(r, i))
		}
		return dst
	}
	def.Decode = func(src []byte, r *dynRow) error {
		vals, err := codec.DecodeRow(d.kinds, src, nil)
		if err != nil {
			return err
		}
		*r = dynRow{V: vals}
		if d.seqPos >= 0 {
			d.setSeq(r, vals[d.seqPos])
		}
		return nil
	}
	d.Def = def
	return d
}

func params[T table.Integer](s *dynSeq) table.SeqParams[T] {
	p := table.SeqParams[T]{Increment: s.Increment, Batch: s.Batch, NoCycle: s.NoCycle}
	if s.Start != nil {
		p.Start, p.HasStart = T(*s.Start), true
	}
	if s.Min != nil {
		p.Min, p.HasMin = T(*s.Min), true
	}
	if s.Max != nil {
		p.Max, p.HasMax = T(*s.Max), true
	}
	return p
}

// dynModule is a module of dynamic tables.
type dynModule struct {
	defs []*dynDef
	*keel.Module
}

func newDynModule(tables ...dynTable) *dynModule {
	m := &dynModule{Module: &keel.Module{Name: "dyn"}}
	for _, t := range tables {
		d := newDyn(t)
		m.defs = append(m.defs, d)
		m.Tables = append(m.Tables, d.Def)
	}
	return m
}

func (m *dynModule) def(name string) *dynDef {
	for _, d := range m.defs {
		if d.Name == name {
			return d
		}
	}
	panic("no table " + name)
}

// Value constructors, short for the tests.
func vu(k string, v uint64) codec.Value {
	x, err := codec.UintOf(kindOf(k), v)
	if err != nil {
		panic(err)
	}
	return x
}

func vi(k string, v int64) codec.Value {
	x, err := codec.IntOf(kindOf(k), v)
	if err != nil {
		panic(err)
	}
	return x
}

func vs(s string) codec.Value { return codec.StringValue(s) }

func kindOf(s string) codec.Kind {
	k, err := codec.ParseKind(s)
	if err != nil {
		panic(err)
	}
	return k
}

// line renders values as a model line.
func line(vals []codec.Value) string {
	var s []string
	for _, v := range vals {
		s = append(s, v.String())
	}
	return strings.Join(s, " | ")
}

func (d *dynDef) String() string { return fmt.Sprintf("dyn table %s", d.Name) }
