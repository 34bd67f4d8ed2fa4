package codegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/keeldb/keel/codegen"
)

// compileCases are modules whose generated files must compile: names the
// generated code must not let a module's names shadow.
var compileCases = []struct {
	name, src string
	remote    bool
}{
	{"parameters named like generated names", `package m

//keel:reducer
func F(ctx *Ctx, FArgs int, FReducer string) error { return nil }
`, false},
	{"remote of a package named like a local of Dial", `package c

//keel:table public
type T struct {
	ID uint64 ` + "`db:\"pk\"`" + `
}
`, true},
}

// TestGeneratedCompiles generates each of compileCases and vets the
// result, all in one go command.
func TestGeneratedCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// Inside the module, so the keel imports resolve; under testdata, so
	// go build ./... never sees it.
	root, err := os.MkdirTemp("testdata", "compile")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	for i, c := range compileCases {
		dir := filepath.Join(root, "m"+string(rune('a'+i)))
		t.Logf("%s: %s", dir, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "m.go"), []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := codegen.Generate(codegen.Config{Dir: dir, Remote: c.remote})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, o := range []*codegen.Output{out, out.Remote} {
			if o == nil {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(o.Path, o.Src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := exec.Command("go", "vet", "./"+filepath.ToSlash(root)+"/...").CombinedOutput(); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
}
