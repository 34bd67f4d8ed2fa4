package codegen_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// blogGen is the generated file of the posts example: the module the
// README shows, whose size the generator keeps small by instantiating
// package table's generic accessors rather than writing them out.
const blogGen = "../examples/posts/blog/keel_gen.go"

// TestGeneratedSize checks that the blog example's generated file stays
// at most 250 lines.
func TestGeneratedSize(t *testing.T) {
	src, err := os.ReadFile(blogGen)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n > 250 {
		t.Errorf("%s has %d lines, want at most 250", blogGen, n)
	}
}

// TestNothingEmittedTwice checks that no two functions (declared or
// literal) of more than one statement in the generated files have the
// same body, so that what repeats lives in a generic helper instead.
func TestNothingEmittedTwice(t *testing.T) {
	for _, file := range []string{blogGen, "testdata/blog/keel_gen.go"} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]token.Pos{}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			switch n := n.(type) {
			case *ast.FuncDecl:
				body = n.Body
			case *ast.FuncLit:
				body = n.Body
			}
			if body == nil || len(body.List) < 2 {
				return true
			}
			var b strings.Builder
			printer.Fprint(&b, token.NewFileSet(), body)
			if at, ok := seen[b.String()]; ok {
				t.Errorf("%s: %s repeats the body at %s:\n%s", file, fset.Position(body.Pos()), fset.Position(at), b.String())
			}
			seen[b.String()] = body.Pos()
			return true
		})
	}
}

// TestSetInsertPromise checks that the generated code of a table without
// a primary key promises no *table.UniqueError for its rows: inserting an
// identical row is a no-op (table.SetWriter.Insert).
func TestSetInsertPromise(t *testing.T) {
	src, err := os.ReadFile("testdata/blog/keel_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(src, []byte("type LikeTable struct"))
	if i < 0 {
		t.Fatal("no LikeTable in testdata/blog/keel_gen.go")
	}
	if !bytes.Contains(src[i:i+200], []byte("table.SetWriter[Like]")) {
		t.Error("LikeTable does not write through table.SetWriter")
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "LikeTable) Insert") {
			t.Errorf("generated Insert on the set table: %s", line)
		}
	}
}

// TestModuleImportsNoNetwork checks that a generated module package does
// not import the network client (server/client), the WebSocket library or
// net/http, which only its package remote (keelgen -remote) does: a
// program that opens the module in process does not compile them.
func TestModuleImportsNoNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, pkg := range []string{"../examples/chat/chat", "../examples/posts/blog"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch dep {
			case "github.com/keeldb/keel/server/client", "github.com/coder/websocket", "net/http", "crypto/tls":
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
	out, err := exec.Command("go", "list", "-deps", "../examples/chat/chat/remote").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "github.com/keeldb/keel/server/client\n") {
		t.Errorf("the chat module's package remote does not import server/client: %v\n%s", err, out)
	}
}

// TestModuleImportsNoLog checks that a generated module package does not
// import package keel, and with it the log (wal) and the packages only
// the log needs: the generated code refers to package mod, so that the
// module's package compiles without waiting for them, and a build of the
// package alone does not compile them.
func TestModuleImportsNoLog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, pkg := range []string{"../examples/chat/chat", "../examples/posts/blog", "./internal/benchmod"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/keeldb/keel/mod") {
			t.Errorf("%s does not import package mod", pkg)
		}
		for _, dep := range deps {
			switch dep {
			case "github.com/keeldb/keel", "github.com/keeldb/keel/wal", "golang.org/x/sys/unix",
				"github.com/tidwall/wal", "github.com/tidwall/gjson", "math/big":
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}

// TestModuleImportsNoSlog checks that neither a generated module package
// nor the packages it is built on import log/slog or encoding/json, which
// cost every clean build of a module their compile (and log/slog's
// reflect-heavy code): the runtime and the reducers log through
// reducer.Logger, and package keel adapts Options.Logger to it.
func TestModuleImportsNoSlog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, pkg := range []string{"../examples/chat/chat", "../examples/posts/blog", "./internal/benchmod",
		"../table", "../reducer", "../runtime", "../mod"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch dep {
			case "log/slog", "encoding/json", "log":
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}

// TestModuleCompilesNoEngine checks that a generated module package does
// not compile the index engine's generic B-tree (tidwall/btree's BTreeG)
// or the generic map inside sync.Map again: package table holds them
// where no type or inlined body that a module instantiates names them
// (see table.btOf and table.layoutOf), so they are compiled once, in
// package table. Nor does it compile the accessors' methods twice (for a
// value and for a pointer receiver).
func TestModuleCompilesNoEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	archive := filepath.Join(t.TempDir(), "blog.a")
	if out, err := exec.Command("go", "build", "-o", archive, "../examples/posts/blog").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, out)
	}
	var funcs int
	for _, line := range strings.Split(string(out), "\n") {
		// "ADDRESS TYPE NAME", where NAME may hold spaces ("interface {}").
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "T" {
			continue
		}
		funcs++
		sym := strings.Join(f[2:], " ")
		if strings.Contains(sym, "btree.") || strings.Contains(sym, "HashTrieMap") {
			t.Errorf("the blog module compiles %s", sym)
		}
		// The accessors' methods, and the generated readers' and tables',
		// have pointer receivers, so that each is compiled once per
		// instantiation, not also for the value.
		for _, value := range []string{"github.com/keeldb/keel/table.By", "github.com/keeldb/keel/table.Rows[",
			"github.com/keeldb/keel/table.Writer[", "github.com/keeldb/keel/table.SetWriter[",
			"github.com/keeldb/keel/examples/posts/blog.PostReader.", "github.com/keeldb/keel/examples/posts/blog.PostTable."} {
			if strings.HasPrefix(sym, value) {
				t.Errorf("the blog module compiles %s, a value-receiver method of an accessor", sym)
			}
		}
	}
	if funcs == 0 {
		t.Fatalf("no functions in the blog module's archive:\n%s", out)
	}
}
