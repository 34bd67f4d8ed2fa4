package server

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// tableMeta is one table as the server reads and sends it.
type tableMeta struct {
	info  table.TableInfo
	kinds []codec.Kind
	names []string
	pk    []int // primary-key column positions (none for a set)
	q     *query.Table
}

// reducerMeta is one reducer clients may call.
type reducerMeta struct {
	def    *reducer.Def
	params []paramMeta
	result *paramMeta
}

// paramMeta is a parameter or result: a column kind, or a table row, or
// a slice of table rows.
type paramMeta struct {
	name string
	kind codec.Kind // KindInvalid for rows
	row  *tableMeta
	rows bool
}

// schema is what the server knows of its module.
type schema struct {
	module   string
	tables   []*tableMeta
	byName   map[string]*tableMeta
	reducers map[string]*reducerMeta
	order    []*reducerMeta // callable reducers, in module order
	hidden   map[string]string
	names    map[string]string // the callable reducers' names, for decodeBinary
	cat      query.Tables
}

func newSchema(m *keel.Module) (*schema, error) {
	s := &schema{module: m.Name, byName: map[string]*tableMeta{}, reducers: map[string]*reducerMeta{}, hidden: map[string]string{}, names: map[string]string{}}
	for _, ts := range m.Tables {
		info := ts.Info()
		t := &tableMeta{info: info}
		pos := map[string]int{}
		qt := &query.Table{Name: info.Name, Public: info.Public}
		for i, c := range info.Columns {
			k, err := codec.ParseKind(c.Kind)
			if err != nil {
				return nil, kerr.Errorf("keel: server: table %s, column %s: %w", info.Name, c.Name, err)
			}
			t.kinds = append(t.kinds, k)
			t.names = append(t.names, c.Name)
			pos[c.Name] = i
			qt.Columns = append(qt.Columns, query.Column{Name: c.Name, Kind: k})
		}
		for _, ix := range info.Indexes {
			qi := query.Index{Name: ix.Name, Unique: ix.Unique, Ordered: !ix.Hash}
			for _, c := range ix.Columns {
				p, ok := pos[c]
				if !ok {
					return nil, fmt.Errorf("keel: server: table %s: index %s has no column %s", info.Name, ix.Name, c)
				}
				qi.Columns = append(qi.Columns, p)
			}
			if ix.Primary {
				t.pk = qi.Columns
			}
			qt.Indexes = append(qt.Indexes, qi)
		}
		t.q = qt
		s.tables = append(s.tables, t)
		s.byName[info.Name] = t
		s.cat = append(s.cat, qt)
	}
	life := map[*reducer.Def]string{}
	if m.OnConnect != nil {
		life[m.OnConnect] = "the connect reducer, which runs when a client connects"
	}
	if m.OnDisconnect != nil {
		life[m.OnDisconnect] = "the disconnect reducer, which runs when a client disconnects"
	}
	for _, d := range m.Reducers {
		if d.IsInit() {
			s.hidden[d.Name()] = "the init reducer, which runs only when the database is created"
			continue
		}
		if why, ok := life[d]; ok {
			s.hidden[d.Name()] = why
			continue
		}
		r := &reducerMeta{def: d}
		for _, p := range d.Params() {
			pm, err := s.param(d.Name(), p)
			if err != nil {
				return nil, err
			}
			r.params = append(r.params, pm)
		}
		if p, ok := d.Result(); ok {
			pm, err := s.param(d.Name(), p)
			if err != nil {
				return nil, err
			}
			r.result = &pm
		}
		s.reducers[d.Name()] = r
		s.names[d.Name()] = d.Name()
		s.order = append(s.order, r)
	}
	return s, nil
}

func (s *schema) param(red string, p reducer.Param) (paramMeta, error) {
	pm := paramMeta{name: p.Name, rows: p.Rows}
	if p.Row != "" {
		t, ok := s.byName[p.Row]
		if !ok {
			return pm, fmt.Errorf("keel: server: reducer %s: parameter %s is a row of table %s, which the module lacks", red, p.Name, p.Row)
		}
		pm.row = t
		return pm, nil
	}
	k, err := codec.ParseKind(p.Kind)
	if err != nil {
		return pm, kerr.Errorf("keel: server: reducer %s: parameter %s: %w", red, p.Name, err)
	}
	pm.kind = k
	return pm, nil
}

// reducer finds a reducer a client may call.
func (s *schema) reducer(name string) (*reducerMeta, error) {
	if r, ok := s.reducers[name]; ok {
		return r, nil
	}
	if why, ok := s.hidden[name]; ok {
		return nil, fmt.Errorf("reducer %s is %s: clients cannot call it", name, why)
	}
	return nil, fmt.Errorf("module %s has no reducer %q", s.module, name)
}

// kindText is how a parameter's type reads in errors and schemas.
func (p paramMeta) kindText() string {
	switch {
	case p.row != nil && p.rows:
		return "[]" + p.row.info.Name
	case p.row != nil:
		return p.row.info.Name
	}
	return p.kind.String()
}

// appendJSONRow appends a row as a JSON object by column name.
func appendJSONRow(dst []byte, names []string, vals []codec.Value) []byte {
	dst = append(dst, '{')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = codec.AppendJSON(dst, codec.StringValue(names[i]))
		dst = append(dst, ':')
		dst = codec.AppendJSON(dst, v)
	}
	return append(dst, '}')
}

// parseJSONRow reads a JSON object by column name into a table's row
// encoding; a missing column is an error, as is an unknown one.
func parseJSONRow(dst []byte, t *tableMeta, raw []byte) ([]byte, error) {
	obj, err := splitObject(raw)
	if err != nil {
		return dst, fmt.Errorf("a %s row: %w", t.info.Name, err)
	}
	vals := make([]codec.Value, len(t.kinds))
	for name := range obj {
		found := false
		for _, n := range t.names {
			found = found || n == name
		}
		if !found {
			return dst, fmt.Errorf("table %s has no column %q", t.info.Name, name)
		}
	}
	for i, n := range t.names {
		v, ok := obj[n]
		if !ok {
			return dst, fmt.Errorf("a %s row needs column %q (%v)", t.info.Name, n, t.kinds[i])
		}
		if vals[i], err = codec.ParseJSON(t.kinds[i], v); err != nil {
			return dst, fmt.Errorf("column %s: %w", n, trimCodec(err))
		}
	}
	return codec.AppendRow(dst, t.kinds, vals)
}

func trimCodec(err error) error {
	return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "keel: codec: "))
}

// appendParamJSON appends one parameter or result value, decoded from r.
func appendParamJSON(dst []byte, p paramMeta, r *codec.Reader) ([]byte, error) {
	one := func(dst []byte, kinds []codec.Kind, names []string) ([]byte, error) {
		start := r.Offset()
		vals := make([]codec.Value, len(kinds))
		for i, k := range kinds {
			vals[i] = r.Value(k)
		}
		if r.Failed() {
			return dst, fmt.Errorf("at offset %d: %w", start, r.Err())
		}
		if names == nil {
			return codec.AppendJSON(dst, vals[0]), nil
		}
		return appendJSONRow(dst, names, vals), nil
	}
	switch {
	case p.row != nil && p.rows:
		n := r.Count()
		dst = append(dst, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = one(dst, p.row.kinds, p.row.names); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case p.row != nil:
		return one(dst, p.row.kinds, p.row.names)
	}
	return one(dst, []codec.Kind{p.kind}, nil)
}

// appendParam encodes one JSON parameter value.
func appendParam(dst []byte, p paramMeta, raw []byte) ([]byte, error) {
	switch {
	case p.row != nil && p.rows:
		elems, err := splitArray(raw)
		if err != nil {
			return dst, err
		}
		dst = codec.AppendUvarint(dst, uint64(len(elems)))
		for i, e := range elems {
			if dst, err = parseJSONRow(dst, p.row, e); err != nil {
				return dst, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return dst, nil
	case p.row != nil:
		return parseJSONRow(dst, p.row, raw)
	}
	v, err := codec.ParseJSON(p.kind, raw)
	if err != nil {
		return dst, trimCodec(err)
	}
	return codec.AppendValue(dst, v), nil
}

// encodeArgs turns JSON arguments (an object by parameter name, or an
// array in parameter order) into the reducer's encoded arguments.
func (r *reducerMeta) encodeArgs(raw []byte) ([]byte, error) {
	if !r.def.Described() {
		return nil, fmt.Errorf("reducer %s has no recorded signature (regenerate the module): call it with the binary protocol", r.def.Name())
	}
	raw = bytes.TrimSpace(raw)
	var dst []byte
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if raw[0] == '[' {
		elems, err := splitArray(raw)
		if err != nil {
			return nil, fmt.Errorf("arguments of %s: %w", r.def.Name(), err)
		}
		if len(elems) != len(r.params) {
			return nil, fmt.Errorf("reducer %s takes %d arguments (%s), not %d", r.def.Name(), len(r.params), r.signature(), len(elems))
		}
		for i, p := range r.params {
			if dst, err = appendParam(dst, p, elems[i]); err != nil {
				return nil, fmt.Errorf("argument %s of %s: %w", p.name, r.def.Name(), err)
			}
		}
		return dst, nil
	}
	obj, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("arguments of %s: want an object by parameter name or an array: %w", r.def.Name(), err)
	}
	for name := range obj {
		found := false
		for _, p := range r.params {
			found = found || p.name == name
		}
		if !found {
			return nil, fmt.Errorf("reducer %s has no parameter %q; it takes (%s)", r.def.Name(), name, r.signature())
		}
	}
	for _, p := range r.params {
		v, ok := obj[p.name]
		if !ok {
			return nil, fmt.Errorf("reducer %s needs argument %s (%s); it takes (%s)", r.def.Name(), p.name, p.kindText(), r.signature())
		}
		if dst, err = appendParam(dst, p, v); err != nil {
			return nil, fmt.Errorf("argument %s of %s: %w", p.name, r.def.Name(), err)
		}
	}
	return dst, nil
}

func (r *reducerMeta) signature() string {
	var ps []string
	for _, p := range r.params {
		ps = append(ps, p.name+" "+p.kindText())
	}
	return strings.Join(ps, ", ")
}

// resultJSON turns an encoded result into JSON (null for none).
func (r *reducerMeta) resultJSON(dst, res []byte) ([]byte, error) {
	if r.result == nil {
		return append(dst, "null"...), nil
	}
	rd := codec.NewReader(res)
	dst, err := appendParamJSON(dst, *r.result, rd)
	if err != nil {
		return dst, err
	}
	return dst, rd.Err()
}

// appendJSON describes the public tables and callable reducers, for the
// JSON InitialConnection: "tables":[...],"reducers":[...] .
func (s *schema) appendJSON(dst []byte) []byte {
	str := func(dst []byte, v string) []byte { return codec.AppendJSON(dst, codec.StringValue(v)) }
	dst = append(dst, `"module":`...)
	dst = str(dst, s.module)
	dst = append(dst, `,"tables":[`...)
	first := true
	for _, t := range s.tables {
		if !t.info.Public {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"name":`...)
		dst = str(dst, t.info.Name)
		dst = append(dst, `,"columns":[`...)
		for i, n := range t.names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = str(dst, n)
			dst = append(dst, `,"kind":`...)
			dst = str(dst, t.kinds[i].String())
			dst = append(dst, '}')
		}
		dst = append(dst, `],"primary_key":[`...)
		for i, p := range t.pk {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = str(dst, t.names[p])
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, `],"reducers":[`...)
	for i, r := range s.order {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = str(dst, r.def.Name())
		dst = append(dst, `,"params":[`...)
		for j, p := range r.params {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = str(dst, p.name)
			dst = append(dst, `,"kind":`...)
			dst = str(dst, p.kindText())
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, ']')
}
