package codegen

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// GenVersion is the generated-code version this generator writes; the
// runtime's MinGenVersion..GenVersion must include it.
const GenVersion = 2

type emitter struct {
	buf   bytes.Buffer
	m     *module
	depth int // nesting of generated loops, for variable names
}

func (g *emitter) p(format string, args ...any) {
	fmt.Fprintf(&g.buf, format, args...)
	g.buf.WriteByte('\n')
}

// emit writes the generated file for m. imports maps local names to the
// paths the file may use; only those it does use are imported.
func emit(m *module, imports map[string]string) []byte {
	g := &emitter{m: m}
	g.guards()
	g.context()
	g.moduleVar()
	g.client()
	for _, t := range m.Tables {
		g.table(t)
	}
	g.migrations()
	body := g.buf.Bytes()

	var out bytes.Buffer
	out.WriteString(Header + "\n\n")
	out.WriteString("package " + m.Pkg + "\n\n")
	var std, other []string
	for name, path := range imports {
		re := regexp.MustCompile(`(^|[^.\w])` + regexp.QuoteMeta(name) + `\.`)
		if !re.Match(body) {
			continue
		}
		line := strconv.Quote(path)
		if name != lastElem(path) {
			line = name + " " + line
		}
		if strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			other = append(other, line)
		} else {
			std = append(std, line)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	out.WriteString("import (\n")
	for _, l := range std {
		out.WriteString("\t" + l + "\n")
	}
	if len(std) > 0 && len(other) > 0 {
		out.WriteString("\n")
	}
	for _, l := range other {
		out.WriteString("\t" + l + "\n")
	}
	out.WriteString(")\n\n")
	out.Write(body)
	return out.Bytes()
}

func lastElem(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

func (g *emitter) guards() {
	g.p("// Generated-code version %d: if the build stops here, regenerate or update Keel.", GenVersion)
	g.p("const _ = mod.EnforceGenVersion(%d-mod.MinGenVersion) + mod.EnforceGenVersion(mod.GenVersion-%d)", GenVersion, GenVersion)
	g.p("")
	if len(g.m.Tables) == 0 {
		return
	}
	g.p("// The table structs as generated: if the build stops here, run go generate.")
	for _, t := range g.m.Tables {
		g.p("var _ struct {")
		for _, f := range t.fields {
			if f.Tag != "" {
				g.p("\t%s %s %s", f.Name, f.Type, quoteTag(f.Tag))
			} else {
				g.p("\t%s %s", f.Name, f.Type)
			}
		}
		g.p("} = %s{}", t.Type)
	}
	g.p("")
}

func quoteTag(s string) string {
	if strconv.CanBackquote(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

func (g *emitter) context() {
	g.p("// Ctx is what a reducer sees: its context and DB, the module's tables in its")
	g.p("// transaction. ViewDB is them as of one commit, read-only, for any goroutine.")
	g.p("type (")
	g.p("\tCtx struct {")
	g.p("\t\t*reducer.Ctx")
	g.p("\t\tDB DB")
	g.p("\t}")
	g.p("\tDB     struct{ tx *table.Tx }")
	g.p("\tViewDB struct{ v *table.View }")
	g.p(")")
	g.p("")
	g.p("// DBOf returns the typed tables of tx, for DB.Update (package keel) and tests.")
	g.p("func DBOf(tx *table.Tx) DB { return DB{tx} }")
	g.p("")
	for _, t := range g.m.Tables {
		g.p("// %s returns the %s table.", t.Go, t.Name)
		g.p("func (db DB) %s() *%sTable {", t.Go, t.Go)
		w := "table.WriterOf(" + pkKeyVar(t) + ", t)"
		if t.Primary == nil {
			w = "table.SetOf(t)"
		}
		g.p("\tt := table.Use(db.tx, %sDef)", t.Go)
		g.p("\treturn &%sTable{%sReader{table.RowsOf(%s, t.Reader())}, %s}", t.Go, t.Go, pkKeyVar(t), w)
		g.p("}")
		g.p("")
	}
	g.p("// ViewOf returns the typed tables of v.")
	g.p("func ViewOf(v *table.View) ViewDB { return ViewDB{v} }")
	g.p("")
	for _, t := range g.m.Tables {
		g.p("// %s returns the %s table.", t.Go, t.Name)
		g.p("func (v ViewDB) %s() *%sReader { return &%sReader{table.RowsOf(%s, table.Read(v.v, %sDef))} }", t.Go, t.Go, t.Go, pkKeyVar(t), t.Go)
		g.p("")
	}
}

func (g *emitter) moduleVar() {
	m := g.m
	g.p("// Module is the %s module: its tables and reducers, for Open (package keel).", m.Pkg)
	g.p("var Module = &mod.Module{")
	g.p("\tName: %q,", m.Pkg)
	var ts []string
	for _, t := range m.Tables {
		ts = append(ts, t.Go+"Def")
	}
	g.p("\tTables: []table.Schema{%s},", strings.Join(ts, ", "))
	var rs []string
	for _, r := range m.Reducers {
		if r.Init {
			rs = append(rs, r.Func+"Reducer")
		} else {
			rs = append(rs, "&"+r.Func+"Reducer.Def")
		}
	}
	g.p("\tReducers: []*reducer.Def{%s},", strings.Join(rs, ", "))
	var sched []*tableModel
	for _, t := range m.Tables {
		if t.Schedule != "" {
			sched = append(sched, t)
		}
	}
	if len(sched) > 0 {
		g.p("\tSchedules: []*reducer.Schedule{")
		for _, t := range sched {
			every := "nil"
			if t.SchedEvery != nil {
				every = fmt.Sprintf("func(r *%s) time.Duration { return r.%s }", t.Type, t.SchedEvery.Field)
			}
			g.p("\t\treducer.NewSchedule(%sDef, %s%sIndex, func(r *%s) *time.Time { return &r.%s }, %s,", t.Go, t.Go, t.SchedAtIndex.Go, t.Type, t.SchedAt.Field, every)
			g.p("\t\t\t&%sReducer.Def, func(c *reducer.Ctx, row %s) error { return %s(&Ctx{Ctx: c, DB: DB{c.Tx}}, row) }),", t.Schedule, t.Type, t.Schedule)
		}
		g.p("\t},")
	}
	for _, r := range m.Reducers {
		switch r.Lifecycle {
		case "connect":
			g.p("\tOnConnect: &%sReducer.Def,", r.Func)
		case "disconnect":
			g.p("\tOnDisconnect: &%sReducer.Def,", r.Func)
		}
	}
	g.migrationFields()
	g.p("}")
	g.p("")
	for _, r := range m.Reducers {
		if r.Init {
			g.p("// %sReducer is the init reducer %s: it runs once, when a database is", r.Func, r.Func)
			g.p("// created.")
			g.p("var %sReducer = reducer.NewInit(%q, func(c *reducer.Ctx) error { return %s(&Ctx{Ctx: c, DB: DB{c.Tx}}) })", r.Func, r.Func, r.Func)
			g.p("")
		}
	}
	g.p("// The module's reducers: XReducer is reducer X, with its XArgs and result codecs.")
	g.p("var (")
	block := g.buf.Len()
	for _, r := range m.Reducers {
		ctx := "&Ctx{Ctx: c, DB: DB{c.Tx}}"
		if r.Init {
			continue
		}
		var args []string
		for _, pa := range r.Params {
			args = append(args, "a."+pa.Field)
		}
		call := r.Func + "(" + strings.Join(append([]string{ctx}, args...), ", ") + ")"
		res := "struct{}"
		if r.Result != nil {
			res = r.Result.expr
		}
		g.p("%sReducer = reducer.New(%q, func(c *reducer.Ctx, a %sArgs) (%s, error) {", r.Func, r.Func, r.Func, res)
		if r.Result == nil {
			g.p("\treturn struct{}{}, %s", call)
		} else {
			g.p("\treturn %s", call)
		}
		g.p("}, reducer.Codec[%sArgs]{", r.Func)
		g.p("\tAppend: func(dst []byte, a *%sArgs) []byte {", r.Func)
		for _, pa := range r.Params {
			g.enc(pa.Type, "a."+pa.Field, "\t\t")
		}
		g.returnDst("\t\t")
		g.p("\t},")
		if len(r.Params) == 0 {
			g.p("\tDecode: reducer.Reads(func(*codec.Reader, *%sArgs) {}),", r.Func)
		} else {
			g.p("\tDecode: reducer.Reads(func(d *codec.Reader, a *%sArgs) {", r.Func)
			for _, pa := range r.Params {
				g.dec(pa.Type, "a."+pa.Field, "\t\t")
			}
			g.p("\t}),")
		}
		sig := g.signature(r)
		switch {
		case r.Result == nil:
			g.p("}, keelNoneCodec, %s)", sig)
		case r.Result.kind == kRow:
			g.p("}, reducer.RowCodec(%sDef), %s)", r.Result.row.Go, sig)
		default:
			g.p("}, reducer.Codec[%s]{", res)
			g.p("\tAppend: func(dst []byte, v *%s) []byte {", res)
			g.enc(r.Result, "*v", "\t\t")
			g.returnDst("\t\t")
			g.p("\t},")
			g.p("\tDecode: reducer.Reads(func(d *codec.Reader, v *%s) {", res)
			g.dec(r.Result, "*v", "\t\t")
			g.p("\t}),")
			g.p("}, %s)", sig)
		}
	}
	if g.buf.Len() == block {
		g.buf.Truncate(block - len("// The module's reducers: XReducer is reducer X, with its XArgs and result codecs.\nvar (\n"))
	} else {
		lines := strings.SplitAfter(g.buf.String()[block:], "\n")
		g.buf.Truncate(block)
		for _, l := range lines {
			if l != "" {
				g.buf.WriteString("\t" + l)
			}
		}
		g.p(")")
		g.p("")
	}
	needNone := false
	for _, r := range m.Reducers {
		needNone = needNone || (!r.Init && r.Result == nil)
	}
	if needNone {
		g.noneCodec()
	}
	g.argTypes()
}

// argTypes writes the argument structs of the reducers, in one type
// declaration.
func (g *emitter) argTypes() {
	var rs []*reducerModel
	for _, r := range g.m.Reducers {
		if !r.Init {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return
	}
	g.p("// The arguments of the module's reducers: XArgs for reducer X.")
	g.p("type (")
	for _, r := range rs {
		if len(r.Params) == 0 {
			g.p("\t%sArgs struct{}", r.Func)
			continue
		}
		var groups []string
		for i, pa := range r.Params {
			if i > 0 && r.Params[i-1].Type.expr == pa.Type.expr {
				groups[len(groups)-1] = strings.TrimSuffix(groups[len(groups)-1], " "+pa.Type.expr) + ", " + pa.Field + " " + pa.Type.expr
				continue
			}
			groups = append(groups, pa.Field+" "+pa.Type.expr)
		}
		if len(groups) == 1 {
			g.p("\t%sArgs struct{ %s }", r.Func, groups[0])
		} else {
			g.p("\t%sArgs struct {", r.Func)
			for _, s := range groups {
				g.p("\t\t%s", s)
			}
			g.p("\t}")
		}
	}
	g.p(")")
	g.p("")
}

func (g *emitter) client() {
	g.p("// Client calls the module's reducers through a mod.Conn on behalf of one")
	g.p("// caller (mod.Caller); each call is one transaction (see mod.Run).")
	g.p("type Client struct{ mod.Caller }")
	g.p("")
	g.p("// NewClient returns a client that calls conn's reducers as caller.")
	g.p("func NewClient(conn mod.Conn, caller reducer.Identity) Client { return Client{mod.NewCaller(conn, caller)} }")
	g.p("")
	g.p("// As returns a client for the same connection with another caller.")
	g.p("func (c Client) As(caller reducer.Identity) Client { return Client{c.Caller.As(caller)} }")
	g.p("")
	g.p("// View returns the tables as of the last durable commit (see mod.ViewOf).")
	g.p("func (c Client) View(ctx context.Context) (ViewDB, error) { return mod.ViewAs(ctx, c.Caller, ViewOf) }")
	g.p("")
	g.p("// Go returns the client's asynchronous form (see mod.Go).")
	g.p("func (c Client) Go() AsyncClient { return AsyncClient{c.Caller} }")
	g.p("")
	g.p("// Batch returns the client's batch form, which adds calls to b.")
	g.p("func (c Client) Batch(b *mod.Batch) BatchClient { return AsyncClient{c.In(b)} }")
	g.p("")
	g.p("// AsyncClient has Client's reducer methods, which submit the call, or add")
	g.p("// it to a batch, and return its future (mod.Send); BatchClient is its")
	g.p("// batch form.")
	g.p("type (")
	g.p("\tAsyncClient struct{ c mod.Caller }")
	g.p("\tBatchClient = AsyncClient")
	g.p(")")
	g.p("")
	for _, r := range g.m.Reducers {
		if r.Init || r.Lifecycle != "" {
			continue
		}
		var params, fields []string
		// The body names the reducer's variable and its arguments' type.
		used := map[string]bool{"c": true, "a": true, "ctx": true, "err": true, "res": true, r.Func + "Reducer": true, r.Func + "Args": true}
		for _, pa := range r.Params {
			n := safeName(pa.Name, used)
			params = append(params, n+" "+pa.Type.expr)
			fields = append(fields, pa.Field+": "+n)
		}
		args := r.Func + "Args{" + strings.Join(fields, ", ") + "}"
		ps := strings.Join(append([]string{"ctx context.Context"}, params...), ", ")
		res := "struct{}"
		if r.Result != nil {
			res = r.Result.expr
		}
		g.p("// %s runs reducer %s.", r.Func, r.Func)
		if r.Result == nil {
			g.p("func (c Client) %s(%s) error { return mod.InvokeErr(ctx, c.Caller, %sReducer, %s) }", r.Func, ps, r.Func, args)
		} else {
			g.p("func (c Client) %s(%s) (%s, error) { return mod.Invoke(ctx, c.Caller, %sReducer, %s) }", r.Func, ps, res, r.Func, args)
		}
		g.p("")
		g.p("func (a AsyncClient) %s(%s) mod.Future[%s] { return mod.Send(ctx, a.c, %sReducer, %s) }", r.Func, ps, res, r.Func, args)
		g.p("")
	}
}

// signature returns the reducer.Signature option that records r's
// parameters and result for callers holding values (the network server).
func (g *emitter) signature(r *reducerModel) string {
	var ps []string
	for _, pa := range r.Params {
		ps = append(ps, paramLiteral(pa.Name, pa.Type))
	}
	res := "nil"
	if r.Result != nil {
		res = "&reducer.Param" + paramLiteral("", r.Result)
	}
	return fmt.Sprintf("reducer.Signature([]reducer.Param{%s}, %s)", strings.Join(ps, ", "), res)
}

// paramLiteral is the reducer.Param literal (without its type name) of a
// parameter name of type ct.
func paramLiteral(name string, ct *colType) string {
	var fs []string
	if name != "" {
		fs = append(fs, fmt.Sprintf("Name: %q", name))
	}
	switch {
	case ct.kind == kRow:
		fs = append(fs, fmt.Sprintf("Row: %q", ct.row.Name))
	case ct.kind == kSlice && ct.elem.kind == kRow:
		fs = append(fs, fmt.Sprintf("Row: %q, Rows: true", ct.elem.row.Name))
	default:
		fs = append(fs, fmt.Sprintf("Kind: %q", kindName(ct)))
	}
	return "{" + strings.Join(fs, ", ") + "}"
}

// reserved are names a generated parameter must not take.
var reserved = map[string]bool{
	"break": true, "case": true, "chan": true, "const": true, "continue": true, "default": true,
	"defer": true, "else": true, "fallthrough": true, "for": true, "func": true, "go": true, "goto": true,
	"if": true, "import": true, "interface": true, "map": true, "package": true, "range": true,
	"return": true, "select": true, "struct": true, "switch": true, "type": true, "var": true,
	"bytes": true, "cmp": true, "fmt": true, "iter": true, "strings": true, "time": true,
	"codec": true, "reducer": true, "keel": true, "mod": true, "context": true, "table": true, "string": true, "len": true,
	"make": true, "nil": true, "true": true, "false": true, "int": true, "bool": true, "byte": true,
}

// safeName returns name, or name with a suffix, so that it is no keyword,
// import or name already used; it records the result in used.
func safeName(name string, used map[string]bool) string {
	n := name
	for reserved[n] || used[n] {
		n += "_"
	}
	used[n] = true
	return n
}

// lowerName turns a field name into a parameter name: ID -> id, UserID ->
// userID, HTTPServer -> httpServer.
func lowerName(s string) string {
	r := []rune(s)
	i := 0
	for i < len(r) && unicode.IsUpper(r[i]) {
		i++
	}
	switch {
	case i == 0:
		return s
	case i == len(r) || i == 1:
		i = max(i, 1)
	default:
		i-- // keep the capital that starts the next word
	}
	return strings.ToLower(string(r[:i])) + string(r[i:])
}

// conv converts v of type ct to base unless ct is base.
func conv(ct *colType, base, v string) string {
	if ct.expr == base {
		return v
	}
	return base + "(" + v + ")"
}

// wrap converts v of type base to ct unless ct is base.
func wrap(ct *colType, base, v string) string {
	if ct.expr == base {
		return v
	}
	return ct.expr + "(" + v + ")"
}

// returnDst ends an encoder: the last statement, when it is an
// assignment to dst, becomes the return statement.
func (g *emitter) returnDst(ind string) {
	b := g.buf.Bytes()
	i := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
	if last := string(b[i:]); strings.HasPrefix(last, ind+"dst = ") {
		g.buf.Truncate(i)
		g.p("%sreturn %s", ind, strings.TrimSuffix(strings.TrimPrefix(last, ind+"dst = "), "\n"))
		return
	}
	g.p("%sreturn dst", ind)
}

// enc writes statements that append v, of type ct, to dst.
func (g *emitter) enc(ct *colType, v, ind string) {
	switch ct.kind {
	case kBool:
		g.p("%sdst = codec.AppendBool(dst, %s)", ind, conv(ct, "bool", v))
	case kInt:
		g.p("%sdst = codec.AppendVarint(dst, %s)", ind, conv(ct, "int64", v))
	case kUint:
		g.p("%sdst = codec.AppendUvarint(dst, %s)", ind, conv(ct, "uint64", v))
	case kFloat:
		b := fmt.Sprintf("float%d", ct.bits)
		g.p("%sdst = codec.AppendFloat%d(dst, %s)", ind, ct.bits, conv(ct, b, v))
	case kString:
		g.p("%sdst = codec.AppendString(dst, %s)", ind, conv(ct, "string", v))
	case kBytes:
		g.p("%sdst = codec.AppendBytes(dst, %s)", ind, v)
	case kTime:
		g.p("%sdst = codec.AppendTime(dst, %s)", ind, conv(ct, "time.Time", v))
	case kRow:
		ptr := "&" + v
		if strings.HasPrefix(v, "*") {
			ptr = v[1:]
		}
		g.p("%sdst = keelAppend%s(dst, %s)", ind, ct.row.Go, ptr)
	case kSlice:
		g.depth++
		e := fmt.Sprintf("e%d", g.depth)
		g.p("%sdst = codec.AppendUvarint(dst, uint64(len(%s)))", ind, v)
		g.p("%sfor _, %s := range %s {", ind, e, v)
		g.enc(ct.elem, e, ind+"\t")
		g.p("%s}", ind)
		g.depth--
	}
}

// dec writes statements that read lhs, of type ct, from d.
func (g *emitter) dec(ct *colType, lhs, ind string) {
	switch ct.kind {
	case kBool:
		g.p("%s%s = %s", ind, lhs, wrap(ct, "bool", "d.Bool()"))
	case kInt:
		if ct.bits == 64 {
			g.p("%s%s = %s", ind, lhs, wrap(ct, "int64", "d.Varint()"))
		} else {
			g.p("%s%s = %s", ind, lhs, wrap(ct, "int64", fmt.Sprintf("d.Int(%d)", ct.bits)))
		}
	case kUint:
		if ct.bits == 64 {
			g.p("%s%s = %s", ind, lhs, wrap(ct, "uint64", "d.Uvarint()"))
		} else {
			g.p("%s%s = %s", ind, lhs, wrap(ct, "uint64", fmt.Sprintf("d.Uint(%d)", ct.bits)))
		}
	case kFloat:
		g.p("%s%s = %s", ind, lhs, wrap(ct, fmt.Sprintf("float%d", ct.bits), fmt.Sprintf("d.Float%d()", ct.bits)))
	case kString:
		g.p("%s%s = %s", ind, lhs, wrap(ct, "string", "d.Text()"))
	case kBytes:
		g.p("%s%s = %s", ind, lhs, wrap(ct, "[]byte", "d.Bytes(false)"))
	case kTime:
		g.p("%s%s = %s", ind, lhs, wrap(ct, "time.Time", "d.Time()"))
	case kRow:
		ptr := "&" + lhs
		if strings.HasPrefix(lhs, "*") {
			ptr = lhs[1:]
		}
		g.p("%skeelRead%s(d, %s)", ind, ct.row.Go, ptr)
	case kSlice:
		g.depth++
		s, i := fmt.Sprintf("s%d", g.depth), fmt.Sprintf("i%d", g.depth)
		g.p("%sif n := d.Count(); n > 0 {", ind)
		g.p("%s\t%s := make(%s, n)", ind, s, ct.expr)
		g.p("%s\tfor %s := range %s {", ind, i, s)
		g.dec(ct.elem, s+"["+i+"]", ind+"\t\t")
		g.p("%s\t}", ind)
		g.p("%s\t%s = %s", ind, lhs, s)
		g.p("%s} else {", ind)
		g.p("%s\t%s = nil", ind, lhs)
		g.p("%s}", ind)
		g.depth--
	}
}

// kindName is the storage kind of ct as codec.Kind names it.
func kindName(ct *colType) string {
	switch ct.kind {
	case kBool:
		return "bool"
	case kInt, kUint:
		n := "int"
		if ct.kind == kUint {
			n = "uint"
		}
		if ct.bits != 0 {
			n += strconv.Itoa(ct.bits)
		}
		return n
	case kFloat:
		return "float" + strconv.Itoa(ct.bits)
	case kString:
		return "string"
	case kBytes:
		return "bytes"
	case kTime:
		return "time"
	case kSlice:
		return "[]" + kindName(ct.elem)
	}
	return ""
}

// compare returns an expression ordering a and b of type ct.
func compare(ct *colType, a, b string) string {
	switch ct.kind {
	case kString:
		return fmt.Sprintf("strings.Compare(%s, %s)", conv(ct, "string", a), conv(ct, "string", b))
	case kBytes:
		return fmt.Sprintf("bytes.Compare(%s, %s)", a, b)
	case kBool:
		return fmt.Sprintf("codec.CompareBool(%s, %s)", conv(ct, "bool", a), conv(ct, "bool", b))
	case kTime:
		if ct.named {
			return fmt.Sprintf("time.Time(%s).Compare(time.Time(%s))", a, b)
		}
		return fmt.Sprintf("%s.Compare(%s)", a, b)
	}
	return fmt.Sprintf("cmp.Compare(%s, %s)", a, b)
}

// inlineKey returns an expression for the inline key (table.Index.Key) of
// v of type ct, whose order agrees with compare's, and whether it is
// exact; ok is false for a type without one (time.Time).
func inlineKey(ct *colType, v string) (expr string, exact, ok bool) {
	switch ct.kind {
	case kUint:
		return fmt.Sprintf("table.KeyUint(%s)", conv(ct, "uint64", v)), true, true
	case kInt:
		return fmt.Sprintf("table.KeyInt(%s)", conv(ct, "int64", v)), true, true
	case kBool:
		return fmt.Sprintf("table.KeyBool(%s)", conv(ct, "bool", v)), true, true
	case kFloat:
		return fmt.Sprintf("table.KeyFloat(%s)", conv(ct, "float64", v)), true, true
	case kString:
		return fmt.Sprintf("table.KeyString(%s)", conv(ct, "string", v)), false, true
	case kBytes:
		return fmt.Sprintf("table.KeyBytes(%s)", conv(ct, "[]byte", v)), false, true
	}
	return "", false, false
}

// hashOf returns an expression for the hash (table.Hash...) of v of type
// ct: equal for values that compare equal.
func hashOf(ct *colType, v string) string {
	switch ct.kind {
	case kUint:
		return fmt.Sprintf("table.HashUint(%s)", conv(ct, "uint64", v))
	case kInt:
		return fmt.Sprintf("table.HashInt(%s)", conv(ct, "int64", v))
	case kBool:
		return fmt.Sprintf("table.HashBool(%s)", conv(ct, "bool", v))
	case kString:
		return fmt.Sprintf("table.HashString(%s)", conv(ct, "string", v))
	case kBytes:
		return fmt.Sprintf("table.HashBytes(%s)", conv(ct, "[]byte", v))
	case kTime:
		return fmt.Sprintf("table.HashTime(%s)", conv(ct, "time.Time", v))
	case kFloat:
		return fmt.Sprintf("table.HashFloat(%s)", conv(ct, "float64", v))
	}
	return "0"
}

// verb returns the fmt verb and argument that show v of type ct.
func verb(ct *colType, v string) (string, string) {
	switch ct.kind {
	case kString:
		return "%q", conv(ct, "string", v)
	case kBytes:
		return "%x", conv(ct, "[]byte", v)
	case kBool:
		return "%t", v
	case kFloat:
		return "%g", v
	case kTime:
		return "%s", conv(ct, "time.Time", v) + ".Format(time.RFC3339Nano)"
	}
	return "%d", v
}

func (g *emitter) indexLiteral(t *tableModel, name string, cols []*column, unique, hash bool, ind string) {
	var names []string
	for _, c := range cols {
		names = append(names, strconv.Quote(c.Name))
	}
	g.p("%s&table.Index[%s]{", ind, t.Type)
	g.p("%s\tName:    %q,", ind, name)
	g.p("%s\tColumns: []string{%s},", ind, strings.Join(names, ", "))
	if unique {
		g.p("%s\tUnique:  true,", ind)
	}
	if len(cols) == 1 {
		c := cols[0]
		g.p("%s\tCompare: func(a, b *%s, _ int) int { return %s },", ind, t.Type, compare(c.Type, "a."+c.Field, "b."+c.Field))
		f, arg := verb(c.Type, "r."+c.Field)
		g.p("%s\tFormat:  func(r *%s, _ int) string { return fmt.Sprintf(\"%s=%s\", %s) },", ind, t.Type, c.Name, f, arg)
	} else {
		g.p("%s\tCompare: func(a, b *%s, n int) int {", ind, t.Type)
		for i, c := range cols[:len(cols)-1] {
			g.p("%s\t\tif c := %s; c != 0 || n == %d {", ind, compare(c.Type, "a."+c.Field, "b."+c.Field), i+1)
			g.p("%s\t\t\treturn c", ind)
			g.p("%s\t\t}", ind)
		}
		last := cols[len(cols)-1]
		g.p("%s\t\treturn %s", ind, compare(last.Type, "a."+last.Field, "b."+last.Field))
		g.p("%s\t},", ind)
		g.p("%s\tFormat: func(r *%s, n int) string {", ind, t.Type)
		format := func(k int) string {
			var fs, as []string
			for _, c := range cols[:k] {
				f, arg := verb(c.Type, "r."+c.Field)
				fs = append(fs, c.Name+"="+f)
				as = append(as, arg)
			}
			return fmt.Sprintf("fmt.Sprintf(%q, %s)", strings.Join(fs, ", "), strings.Join(as, ", "))
		}
		g.p("%s\t\tswitch n {", ind)
		for k := 1; k < len(cols); k++ {
			g.p("%s\t\tcase %d:", ind, k)
			g.p("%s\t\t\treturn %s", ind, format(k))
		}
		g.p("%s\t\t}", ind)
		g.p("%s\t\treturn %s", ind, format(len(cols)))
		g.p("%s\t},", ind)
	}
	if k, exact, ok := inlineKey(cols[0].Type, "r."+cols[0].Field); ok {
		g.p("%s\tKey: func(r *%s) uint64 { return %s },", ind, t.Type, k)
		if exact {
			g.p("%s\tKeyExact: true,", ind)
		}
	}
	if hash {
		h := ""
		for i, c := range cols {
			if i == 0 {
				h = hashOf(c.Type, "r."+c.Field)
			} else {
				h = fmt.Sprintf("table.HashCombine(%s, %s)", h, hashOf(c.Type, "r."+c.Field))
			}
		}
		g.p("%s\tHash: func(r *%s) uint64 { return %s },", ind, t.Type, h)
	}
	g.p("%s}", ind)
}

func (g *emitter) table(t *tableModel) {
	T, R := t.Go, t.Type
	// Description.
	g.p("// %sDef describes the %s table.", T, t.Name)
	g.p("var %sDef = &table.Def[%s]{", T, R)
	g.p("\tName: %q,", t.Name)
	g.p("\tColumns: []table.Column{")
	for _, c := range t.Cols {
		g.p("\t\t%s,", columnLiteral(c))
	}
	g.p("\t},")
	if t.Primary != nil {
		g.p("\tPrimary: %s%sIndex,", T, t.Primary.Go)
	} else {
		g.p("\tPrimary: // no primary key: rows are ordered whole and stored once")
		g.indexLiteral(t, t.Name+"_rows", t.Cols, true, false, "\t")
		g.buf.Truncate(g.buf.Len() - 1)
		g.p(",")
		g.p("\tSet: true,")
	}
	if len(t.Indexes) > 0 {
		var ix []string
		for _, x := range t.Indexes {
			ix = append(ix, T+x.Go+"Index")
		}
		g.p("\tIndexes: []*table.Index[%s]{%s},", R, strings.Join(ix, ", "))
	}
	if t.Public {
		g.p("\tPublic: true,")
	}
	var seqs []*column
	for _, c := range t.Cols {
		if c.seq != nil {
			seqs = append(seqs, c)
		}
	}
	if len(seqs) > 0 {
		g.p("\tSequences: []table.AutoInc[%s]{", R)
		start := g.buf.Len()
		for _, c := range seqs {
			s := c.seq
			var ps []string
			for _, v := range []struct {
				name string
				n    fmt.Stringer
				has  bool
			}{{"Start", s.start, s.start != nil}, {"Min", s.min, s.min != nil}, {"Max", s.max, s.max != nil}} {
				if v.has {
					ps = append(ps, fmt.Sprintf("%s: %s, Has%s: true", v.name, v.n, v.name))
				}
			}
			if s.increment != 0 {
				ps = append(ps, fmt.Sprintf("Increment: %d", s.increment))
			}
			if s.noCycle {
				ps = append(ps, "NoCycle: true")
			}
			if s.advance {
				ps = append(ps, "Advance: true")
			}
			if s.batch != 0 {
				ps = append(ps, fmt.Sprintf("Batch: %d", s.batch))
			}
			g.p("\t\ttable.NewAutoInc(%q, %q, table.SeqParams[%s]{%s}, func(r *%s) *%s { return &r.%s }),", seqName(t, c), c.Name, c.Type.expr, strings.Join(ps, ", "), R, c.Type.expr, c.Field)
		}
		if len(seqs) == 1 {
			one := strings.TrimSuffix(strings.TrimSpace(g.buf.String()[start:]), ",")
			g.buf.Truncate(start - 1) // before the newline after the opening brace
			g.p("%s},", one)
		} else {
			g.p("\t},")
		}
	}
	g.p("\tEncode: keelAppend%s,", T)
	g.p("\tDecode: keelDecode%s,", T)
	normalize, clone := g.needsNormalize(t), g.needsClone(t)
	if normalize {
		g.p("\tNormalize: keelNormalize%s,", T)
	}
	if clone {
		g.p("\tClone: keelClone%s,", T)
	}
	g.p("}")
	g.p("")
	if normalize {
		g.normalize(t)
	}
	if clone {
		g.clone(t)
	}

	// Indexes.
	var simple []*indexModel
	for _, ix := range t.allIndexes() {
		if simpleIndex(ix) != "" {
			simple = append(simple, ix)
		}
	}
	if len(simple) > 0 {
		g.p("// The %s table's indexes on one column (XIndex, with keelX its key):", t.Name)
		g.p("var (")
		for _, ix := range simple {
			c := ix.Cols[0]
			extra := ""
			if c.Type.kind == kString {
				extra = fmt.Sprintf(", func(a, b *%s, _ int) int { return %s }", R, compare(c.Type, "a."+c.Field, "b."+c.Field))
			}
			g.p("\t%s%sIndex, %s = table.%s(%q, %q, %t, func(r *%s) *%s { return &r.%s }%s) // %s", T, ix.Go, keyVar(t, ix), simpleIndex(ix), t.Name+"_"+ix.Name, c.Name, ix.Unique, R, c.Type.expr, c.Field, extra, idxKind(ix))
		}
		g.p(")")
		g.p("")
	}
	for _, ix := range t.allIndexes() {
		if simpleIndex(ix) != "" {
			continue
		}
		kind := "index"
		switch {
		case ix.Primary:
			kind = "primary key"
		case ix.Unique:
			kind = "unique index"
		}
		g.p("// %s%sIndex is the %s %s_%s of the %s table, on (%s).", T, ix.Go, kind, t.Name, ix.Name, t.Name, colList(ix.Cols))
		g.p("var %s%sIndex = ", T, ix.Go)
		g.buf.Truncate(g.buf.Len() - 1)
		g.indexLiteral(t, t.Name+"_"+ix.Name, ix.Cols, ix.Unique, ix.Hash, "")
		g.p("")
	}

	// Codec.
	g.p("// keelAppend%s, keelRead%s and keelDecode%s are the %s row's codec.", T, T, T, t.Name)
	g.p("func keelAppend%s(dst []byte, r *%s) []byte {", T, R)
	for _, c := range t.Cols {
		g.enc(c.Type, "r."+c.Field, "\t")
	}
	g.returnDst("\t")
	g.p("}")
	g.p("")
	g.p("func keelRead%s(d *codec.Reader, r *%s) {", T, R)
	for _, c := range t.Cols {
		g.dec(c.Type, "r."+c.Field, "\t")
	}
	g.p("}")
	g.p("")
	g.p("func keelDecode%s(src []byte, r *%s) error {", T, R)
	g.p("\td := codec.NewReader(src)")
	g.p("\tkeelRead%s(d, r)", T)
	g.p("\treturn d.Err()")
	g.p("}")
	g.p("")

	g.access(t)
}

// simpleIndex returns the package table constructor of a B-tree index
// on one string or integer column, or "" for another index.
func simpleIndex(ix *indexModel) string {
	if len(ix.Cols) != 1 || ix.Hash {
		return ""
	}
	switch ix.Cols[0].Type.kind {
	case kString:
		return "StringIndex"
	case kUint:
		return "UintIndex"
	case kInt:
		return "IntIndex"
	}
	return ""
}

// keyVar is the name of the table.Key variable of index ix of t.
func keyVar(t *tableModel, ix *indexModel) string { return "keel" + t.Go + ix.Go }

// pkKeyVar is the name of the table.Key variable of t's primary key (for
// a table without one, of its whole rows).
func pkKeyVar(t *tableModel) string {
	if t.Primary == nil {
		return "keel" + t.Go + "Rows"
	}
	return keyVar(t, t.Primary)
}

// keyType is the Go type of the key of index ix: its column's for one
// column, the row type for several.
func keyType(t *tableModel, cols []*column) string {
	if len(cols) == 1 {
		return cols[0].Type.expr
	}
	return t.Type
}

// access writes the keys of t's indexes and its reader and table types,
// which instantiate package table's generic accessors with them.
func (g *emitter) access(t *tableModel) {
	T, R := t.Go, t.Type
	pkKey, pkK := pkKeyVar(t), R
	if t.Primary != nil {
		pkK = keyType(t, t.Primary.Cols)
	}
	var keys []*indexModel
	for _, ix := range t.allIndexes() {
		if simpleIndex(ix) == "" {
			keys = append(keys, ix)
		}
	}
	if t.Primary == nil || len(keys) > 0 {
		g.p("// The keys of the %s table's other indexes, for its readers and writers.", t.Name)
		g.p("var (")
	}
	if t.Primary == nil {
		g.p("\t%s = table.KeyAt(%sDef.Primary, func(r *%s) *%s { return r })", pkKey, T, R, R)
	}
	for _, ix := range keys {
		if len(ix.Cols) == 1 {
			c := ix.Cols[0]
			g.p("\t%s = table.KeyAt(%s%sIndex, func(r *%s) *%s { return &r.%s })", keyVar(t, ix), T, ix.Go, R, c.Type.expr, c.Field)
		} else {
			g.p("\t%s = table.KeyAt(%s%sIndex, func(r *%s) *%s { return r })", keyVar(t, ix), T, ix.Go, R, R)
		}
	}
	if t.Primary == nil || len(keys) > 0 {
		g.p(")")
		g.p("")
	}

	// Reader.
	g.p("// %sReader reads the %s table: table.Rows, and a reader of each index.", T, t.Name)
	g.p("type %sReader struct{ table.Rows[%s, %s] }", T, R, pkK)
	g.p("")
	if pk := t.Primary; pk != nil && len(pk.Cols) > 1 {
		params, key := keyParams(t, pk.Cols)
		g.p("// Find returns the row with the given primary key.")
		g.p("func (r *%sReader) Find(%s) (%s, bool) { return r.Rows.Find(%s) }", T, params, R, key)
		g.p("")
	}
	for _, ix := range t.allIndexes() {
		g.p("// %s reads the table by its %s (%s).", ix.Go, idxKind(ix), colList(ix.Cols))
		g.p("func (r *%sReader) %s() %s { return %s }", T, ix.Go, g.readerType(t, ix), g.readerOf(t, ix, "r.Reader()"))
		g.p("")
	}

	// Table.
	if t.Primary == nil {
		g.p("// %sTable is the %s table inside a transaction: its reader and table.SetWriter.", T, t.Name)
		g.p("type %sTable struct {", T)
		g.p("\t%sReader", T)
		g.p("\ttable.SetWriter[%s]", R)
	} else {
		g.p("// %sTable is the %s table inside a transaction: its reader and table.Writer.", T, t.Name)
		g.p("type %sTable struct {", T)
		g.p("\t%sReader", T)
		g.p("\ttable.Writer[%s, %s]", R, pkK)
	}
	g.p("}")
	g.p("")
	if pk := t.Primary; pk != nil && len(pk.Cols) > 1 {
		params, key := keyParams(t, pk.Cols)
		g.p("// Delete removes the row with the given primary key and returns it, or")
		g.p("// a *table.NotFoundError.")
		g.p("func (t *%sTable) Delete(%s) (%s, error) { return t.Writer.Delete(%s) }", T, params, R, key)
		g.p("")
	}
	for _, ix := range t.allIndexes() {
		if !ix.Unique {
			continue // the reader's, promoted
		}
		g.p("// %s reads and writes the table by its %s (%s).", ix.Go, idxKind(ix), colList(ix.Cols))
		g.p("func (t *%sTable) %s() %s { return %s }", T, ix.Go, g.writerType(t, ix), g.writerOf(t, ix, "t.Table()"))
		g.p("")
	}
	for _, ix := range t.allIndexes() {
		if len(ix.Cols) > 1 {
			g.index(t, ix)
		}
	}
}

// readerType is the type that reads t by ix: one of package table's for
// a one-column key, the generated one for several columns.
func (g *emitter) readerType(t *tableModel, ix *indexModel) string {
	if len(ix.Cols) > 1 {
		return t.Go + ix.Go + "Reader"
	}
	tp := "[" + t.Type + ", " + ix.Cols[0].Type.expr + "]"
	switch {
	case ix.Hash:
		return "*table.ByHash" + tp
	case ix.Unique:
		return "*table.ByUnique" + tp
	}
	return "*table.ByIndex" + tp
}

// readerOf is the expression of readerType on the *table.Reader r.
func (g *emitter) readerOf(t *tableModel, ix *indexModel, r string) string {
	if len(ix.Cols) > 1 {
		return fmt.Sprintf("%s%sReader{%s}", t.Go, ix.Go, r)
	}
	switch {
	case ix.Hash:
		return "table.HashOf(" + keyVar(t, ix) + ", " + r + ")"
	case ix.Unique:
		return "table.UniqueOf(" + keyVar(t, ix) + ", " + r + ")"
	}
	return "table.IndexOf(" + keyVar(t, ix) + ", " + r + ")"
}

// writerType is the type that reads and writes t by the unique index ix.
func (g *emitter) writerType(t *tableModel, ix *indexModel) string {
	if len(ix.Cols) > 1 {
		return t.Go + ix.Go
	}
	tp := "[" + t.Type + ", " + ix.Cols[0].Type.expr + "]"
	if ix.Hash {
		return "*table.ByHashTx" + tp
	}
	return "*table.ByUniqueTx" + tp
}

// writerOf is the expression of writerType on the *table.Table tt.
func (g *emitter) writerOf(t *tableModel, ix *indexModel, tt string) string {
	if len(ix.Cols) > 1 {
		return fmt.Sprintf("%s%s{%s%sReader{%s.Reader()}, %s}", t.Go, ix.Go, t.Go, ix.Go, tt, tt)
	}
	if ix.Hash {
		return "table.HashTxOf(" + keyVar(t, ix) + ", " + tt + ")"
	}
	return "table.UniqueTxOf(" + keyVar(t, ix) + ", " + tt + ")"
}

func idxKind(ix *indexModel) string {
	hash := ""
	if ix.Hash {
		hash = "hash "
	}
	switch {
	case ix.Primary:
		return hash + "primary key"
	case ix.Unique:
		return hash + "unique index " + ix.Name
	}
	return "index " + ix.Name
}

func colList(cols []*column) string {
	var s []string
	for _, c := range cols {
		s = append(s, c.Name)
	}
	return strings.Join(s, ", ")
}

// keyNames are the names a key parameter must not take: the receivers,
// the other parameters and the row type.
func keyNames(t *tableModel) map[string]bool {
	return map[string]bool{"r": true, "t": true, "x": true, "row": true, "lo": true, "hi": true, t.Type: true}
}

// keyParams returns the parameter list for key columns and the row literal
// that holds them.
func keyParams(t *tableModel, cols []*column) (params, key string) {
	used := keyNames(t)
	var ps, fs []string
	for _, c := range cols {
		n := safeName(lowerName(c.Field), used)
		ps = append(ps, n+" "+c.Type.expr)
		fs = append(fs, c.Field+": "+n)
	}
	return strings.Join(ps, ", "), t.Type + "{" + strings.Join(fs, ", ") + "}"
}

func (g *emitter) index(t *tableModel, ix *indexModel) {
	R, I := t.Type, t.Go+ix.Go
	X := I + "Index"
	g.p("// %sReader reads the %s table by its %s (%s).", I, t.Name, idxKind(ix), colList(ix.Cols))
	g.p("type %sReader struct{ r *table.Reader[%s] }", I, R)
	g.p("")
	params, key := keyParams(t, ix.Cols)
	if ix.Unique {
		g.p("// Find returns the row with the given key.")
		g.p("func (x %sReader) Find(%s) (%s, bool) { return x.r.Find(%s, %s) }", I, params, R, X, key)
		g.p("")
		g.p("// Filter yields the row with the given key, if there is one.")
	} else {
		g.p("// Filter yields the rows with the given key, in primary-key order.")
	}
	g.p("func (x %sReader) Filter(%s) iter.Seq[%s] { return x.r.Lookup(%s, %s, 0) }", I, params, R, X, key)
	g.p("")
	for k := 1; k < len(ix.Cols) && !ix.Hash; k++ {
		ps, kk := keyParams(t, ix.Cols[:k])
		var name string
		for _, c := range ix.Cols[:k] {
			name += exported(c.Field)
		}
		g.p("// Filter%s yields the rows whose first %d key columns (%s) equal the", name, k, colList(ix.Cols[:k]))
		g.p("// given values, in key order.")
		g.p("func (x %sReader) Filter%s(%s) iter.Seq[%s] { return x.r.Lookup(%s, %s, %d) }", I, name, ps, R, X, kk, k)
		g.p("")
	}
	if ix.Hash {
		g.uniqueWriter(t, ix, params, key)
		return
	}
	last := ix.Cols[len(ix.Cols)-1]
	prefix := ix.Cols[:len(ix.Cols)-1]
	pp, _ := keyParams(t, prefix)
	used := keyNames(t)
	var fs []string
	for _, c := range prefix {
		fs = append(fs, c.Field+": "+safeName(lowerName(c.Field), used))
	}
	lit := func(v string) string {
		return R + "{" + strings.Join(append(append([]string(nil), fs...), last.Field+": "+v), ", ") + "}"
	}
	if pp != "" {
		pp += ", "
	}
	if len(prefix) > 0 {
		g.p("// Between yields, in key order, the rows with the given %s whose %s", colList(prefix), last.Name)
		g.p("// lies in [lo, hi).")
	} else {
		g.p("// Between yields, in key order, the rows whose %s lies in [lo, hi).", last.Name)
	}
	g.p("func (x %sReader) Between(%slo, hi %s) iter.Seq[%s] {", I, pp, last.Type.expr, R)
	g.p("\treturn x.r.Scan(%s, table.Incl(%s, 0), table.Excl(%s, 0))", X, lit("lo"), lit("hi"))
	g.p("}")
	g.p("")
	g.p("// Range yields the rows between two bounds (see table.Incl, table.Excl,")
	g.p("// table.Prefix; a zero Bound leaves its end open) in key order.")
	g.p("func (x %sReader) Range(lo, hi table.Bound[%s]) iter.Seq[%s] { return x.r.Scan(%s, lo, hi) }", I, R, R, X)
	g.p("")
	g.p("// RangeBackward yields the rows between two bounds in reverse key order.")
	g.p("func (x %sReader) RangeBackward(lo, hi table.Bound[%s]) iter.Seq[%s] {", I, R, R)
	g.p("\treturn x.r.ScanBackward(%s, lo, hi)", X)
	g.p("}")
	g.p("")
	if !ix.Unique {
		return
	}
	g.uniqueWriter(t, ix, params, key)
}

// uniqueWriter writes the type that reads and writes a table by a unique
// index.
func (g *emitter) uniqueWriter(t *tableModel, ix *indexModel, params, key string) {
	R, I := t.Type, t.Go+ix.Go
	X := I + "Index"
	g.p("// %s reads and writes the %s table by its %s (%s).", I, t.Name, idxKind(ix), colList(ix.Cols))
	g.p("type %s struct {", I)
	g.p("\t%sReader", I)
	g.p("\tt *table.Table[%s]", R)
	g.p("}")
	g.p("")
	g.p("// Update replaces the row whose key equals row's, only if it is present")
	g.p("// (otherwise a *table.NotFoundError). Autoinc columns that are 0 in row")
	g.p("// keep their stored values.")
	g.p("func (x %s) Update(row %s) (%s, error) { return x.t.UpdateBy(%s, row) }", I, R, R, X)
	g.p("")
	g.p("// Delete removes the row with the given key and returns it, or a")
	g.p("// *table.NotFoundError.")
	g.p("func (x %s) Delete(%s) (%s, error) { return x.t.DeleteBy(%s, %s) }", I, params, R, X, key)
	g.p("")
}

// needsNormalize reports whether rows of t can differ from what decoding
// their encoding gives: a field not stored, a time, bytes or a slice.
func (g *emitter) needsNormalize(t *tableModel) bool {
	if len(g.skipped(t)) > 0 {
		return true
	}
	for _, c := range t.Cols {
		switch c.Type.kind {
		case kTime, kBytes, kSlice:
			return true
		}
	}
	return false
}

// needsClone reports whether rows of t hold memory a copy of the struct
// shares: bytes or a slice.
func (g *emitter) needsClone(t *tableModel) bool {
	for _, c := range t.Cols {
		switch c.Type.kind {
		case kBytes, kSlice:
			return true
		}
	}
	return false
}

func (g *emitter) clone(t *tableModel) {
	g.p("// keelClone%s gives a %s row memory of its own: copies of its bytes", t.Go, t.Name)
	g.p("// and slices, which a row read from the table shares with the stored row.")
	g.p("func keelClone%s(r *%s) {", t.Go, t.Type)
	for _, c := range t.Cols {
		g.cloneCol(c.Type, "r."+c.Field, "\t")
	}
	g.p("}")
	g.p("")
}

// cloneCol writes statements that copy the memory v, of type ct, shares.
func (g *emitter) cloneCol(ct *colType, v, ind string) {
	switch ct.kind {
	case kBytes:
		g.p("%s%s = codec.NormBytes(%s)", ind, v, v)
	case kSlice:
		g.p("%s%s = codec.NormSlice(%s)", ind, v, v)
		if ct.elem.kind == kBytes {
			g.depth++
			i := fmt.Sprintf("i%d", g.depth)
			g.p("%sfor %s := range %s {", ind, i, v)
			g.cloneCol(ct.elem, v+"["+i+"]", ind+"\t")
			g.p("%s}", ind)
			g.depth--
		}
	}
}

// skipped returns the fields of t that are not stored (db:"-").
func (g *emitter) skipped(t *tableModel) []fieldGuard {
	stored := map[string]bool{}
	for _, c := range t.Cols {
		stored[c.Field] = true
	}
	var out []fieldGuard
	for _, f := range t.fields {
		if !stored[f.Name] && f.Name != "_" {
			out = append(out, f)
		}
	}
	return out
}

func (g *emitter) normalize(t *tableModel) {
	g.p("// keelNormalize%s gives a %s row the form it reads back in after a", t.Go, t.Name)
	g.p("// restart: fields not stored are zero, times UTC without a monotonic")
	g.p("// reading, empty slices nil and the others copies.")
	g.p("func keelNormalize%s(r *%s) {", t.Go, t.Type)
	for _, f := range g.skipped(t) {
		g.p("\tr.%s = *new(%s)", f.Name, f.Type)
	}
	for _, c := range t.Cols {
		g.norm(c.Type, "r."+c.Field, "\t")
	}
	g.p("}")
	g.p("")
}

// norm writes statements that normalize v, of type ct.
func (g *emitter) norm(ct *colType, v, ind string) {
	switch ct.kind {
	case kTime:
		g.p("%s%s = %s", ind, v, wrap(ct, "time.Time", "codec.NormTime("+conv(ct, "time.Time", v)+")"))
	case kBytes:
		g.p("%s%s = codec.NormBytes(%s)", ind, v, v)
	case kSlice:
		g.p("%s%s = codec.NormSlice(%s)", ind, v, v)
		if ct.elem.kind == kTime || ct.elem.kind == kBytes {
			g.depth++
			i := fmt.Sprintf("i%d", g.depth)
			g.p("%sfor %s := range %s {", ind, i, v)
			g.norm(ct.elem, v+"["+i+"]", ind+"\t")
			g.p("%s}", ind)
			g.depth--
		}
	}
}

func (g *emitter) noneCodec() {
	g.p("// keelNoneCodec encodes the empty result of reducers that return only an error.")
	g.p("var keelNoneCodec = reducer.Codec[struct{}]{")
	g.p("\tAppend: func(dst []byte, _ *struct{}) []byte { return dst },")
	g.p("\tDecode: func(src []byte, _ *struct{}) error { return codec.NewReader(src).Err() },")
	g.p("}")
	g.p("")
}
