package kerr

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chainRoot is the package a module's generated code imports last: it and
// every Keel package it imports format through this package, not fmt.
const chainRoot = "github.com/keeldb/keel/mod"

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Imports    []string
	Standard   bool
}

func listDeps(t *testing.T) []listedPackage {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", "-export", "-json", chainRoot).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestChainImportsNoFmt checks that no package a module's build compiles
// for Keel brings fmt, os or reflect (or encoding/binary, encoding/hex and
// runtime/debug, which import them).
func TestChainImportsNoFmt(t *testing.T) {
	for _, p := range listDeps(t) {
		switch p.ImportPath {
		case "fmt", "os", "reflect", "encoding/binary", "encoding/hex", "runtime/debug", "log/slog":
			t.Errorf("%s is in the dependencies of %s", p.ImportPath, chainRoot)
		}
	}
}

// TestFormatOperands type-checks every call of Sprintf, Newf and Errorf
// (and of the functions that forward their format and operands to them)
// in the Keel packages of a module's build, and fails on an operand the
// formatter would print differently from fmt: it takes only the operand
// types format.go lists.
func TestFormatOperands(t *testing.T) {
	pkgs := listDeps(t)
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	errorType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	stringerType := types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, "String",
		types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, nil, "", types.Typ[types.String])), false))}, nil).Complete()
	calls := 0
	for _, p := range pkgs {
		if p.Standard || !strings.HasPrefix(p.ImportPath, "github.com/keeldb/keel/") {
			continue
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-checking %s: %v", p.ImportPath, err)
		}
		// formatters maps a function or func-valued variable to the index of
		// its format parameter; the operands follow it.
		formatters := map[types.Object]int{}
		if p.ImportPath == "github.com/keeldb/keel/internal/kerr" {
			continue // the formatter itself
		}
		callee := func(call *ast.CallExpr) types.Object {
			switch fn := ast.Unparen(call.Fun).(type) {
			case *ast.Ident:
				return info.Uses[fn]
			case *ast.SelectorExpr:
				return info.Uses[fn.Sel]
			}
			return nil
		}
		isKerr := func(o types.Object) bool {
			return o != nil && o.Pkg() != nil && o.Pkg().Path() == "github.com/keeldb/keel/internal/kerr" &&
				(o.Name() == "Sprintf" || o.Name() == "Newf" || o.Name() == "Errorf")
		}
		// Find the forwarding functions: a function literal bound to a name,
		// or a declared function, whose kerr call passes its operands on
		// with "args...".
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				var name *ast.Ident
				var ftype *ast.FuncType
				var body *ast.BlockStmt
				switch d := n.(type) {
				case *ast.FuncDecl:
					name, ftype, body = d.Name, d.Type, d.Body
				case *ast.AssignStmt:
					if len(d.Lhs) == 1 && len(d.Rhs) == 1 {
						if lit, ok := d.Rhs[0].(*ast.FuncLit); ok {
							name, _ = d.Lhs[0].(*ast.Ident)
							ftype, body = lit.Type, lit.Body
						}
					}
				}
				if name == nil || body == nil || ftype.Params == nil || len(ftype.Params.List) == 0 {
					return true
				}
				if _, ok := ftype.Params.List[len(ftype.Params.List)-1].Type.(*ast.Ellipsis); !ok {
					return true
				}
				forwards := false
				ast.Inspect(body, func(m ast.Node) bool {
					if _, ok := m.(*ast.FuncLit); ok {
						return false
					}
					if c, ok := m.(*ast.CallExpr); ok && c.Ellipsis.IsValid() && isKerr(callee(c)) {
						forwards = true
					}
					return true
				})
				if !forwards {
					return true
				}
				params := 0
				for _, field := range ftype.Params.List {
					params += max(len(field.Names), 1)
				}
				obj := info.Defs[name]
				if obj == nil {
					obj = info.Uses[name]
				}
				formatters[obj] = params - 2
				return true
			})
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || call.Ellipsis.IsValid() {
					return true
				}
				obj := callee(call)
				at, ok := formatters[obj]
				if isKerr(obj) {
					at, ok = 0, true
				}
				if !ok || len(call.Args) <= at {
					return true
				}
				pos := fset.Position(call.Pos())
				tv := info.Types[call.Args[at]]
				if tv.Value == nil || tv.Value.Kind() != constant.String {
					t.Errorf("%s: the format of %s is not a constant", pos, obj.Name())
					return true
				}
				calls++
				format, args := constant.StringVal(tv.Value), call.Args[at+1:]
				k := 0
				for i := 0; i < len(format); i++ {
					if format[i] != '%' {
						continue
					}
					i++
					if i == len(format) {
						t.Errorf("%s: format %q ends in %%", pos, format)
						break
					}
					verb := format[i]
					if verb == '%' {
						continue
					}
					if k == len(args) {
						t.Errorf("%s: format %q has more verbs than operands", pos, format)
						break
					}
					typ := info.Types[args[k]].Type
					if !operandOK(verb, typ, errorType, stringerType) {
						t.Errorf("%s: %%%c of %s (%s): the formatter takes strings, booleans, predeclared numbers, errors and Stringers (convert it)",
							pos, verb, types.ExprString(args[k]), typ)
					}
					k++
				}
				if k < len(args) {
					t.Errorf("%s: format %q has fewer verbs than operands", pos, format)
				}
				return true
			})
		}
	}
	if calls < 100 {
		t.Fatalf("checked %d calls; the walk misses the package's calls", calls)
	}
}

func operandOK(verb byte, typ types.Type, errorType, stringerType *types.Interface) bool {
	if verb == 'T' {
		return true
	}
	if verb == 'w' {
		return types.Implements(typ, errorType)
	}
	if basic, ok := typ.(*types.Basic); ok {
		info := basic.Info()
		switch verb {
		case 'v':
			return info&(types.IsString|types.IsBoolean|types.IsInteger|types.IsFloat) != 0
		case 's', 'q':
			return info&types.IsString != 0 || verb == 'q' && info&types.IsInteger != 0
		case 'd', 'c':
			return info&types.IsInteger != 0
		case 'g':
			return info&types.IsFloat != 0
		}
		return false
	}
	if iface, ok := typ.Underlying().(*types.Interface); ok && iface.Empty() && (verb == 'v' || verb == 's') {
		return true // a panic value: Any formats it, as fmt does
	}
	switch verb {
	case 'v', 's', 'q':
		return types.Implements(typ, errorType) || types.Implements(typ, stringerType)
	}
	return false
}
