package codegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuards checks that the build guards of a generated file stop the
// build when its table struct changed after generation, and when the
// runtime does not run its generated-code version.
func TestGuards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	src, err := os.ReadFile(filepath.Join("testdata", "minimal", "minimal.go"))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := os.ReadFile(filepath.Join("testdata", "minimal", "keel_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		src, gen string
		want     string // in the compiler's output
	}{
		{"unchanged", string(src), string(gen), ""},
		{"field added", strings.Replace(string(src), "Name string `db:\"pk\"`", "Name string `db:\"pk\"`\n\tQty int", 1), string(gen),
			"keel_gen.go:21:5: cannot use Item{} (value of struct type Item) as struct"},
		{"tag changed", strings.Replace(string(src), "`db:\"pk\"`", "`db:\"pk,index=x\"`", 1), string(gen),
			"keel_gen.go:21:5: cannot use Item{} (value of struct type Item) as struct"},
		{"newer generated code", string(src), strings.Replace(string(gen), "mod.GenVersion-2", "mod.GenVersion-3", 1),
			"keel_gen.go:16:78: constant -1 overflows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Inside the module, so the keel imports resolve; under
			// testdata, so go build ./... never sees it.
			dir, err := os.MkdirTemp("testdata", "guard")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.WriteFile(filepath.Join(dir, "minimal.go"), []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "keel_gen.go"), []byte(c.gen), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("go", "build", "./"+filepath.ToSlash(dir)).CombinedOutput()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unchanged module does not build: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("build succeeded; want the guard to stop it")
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("build output does not point at the guard (%q):\n%s", c.want, out)
			}
			t.Logf("%s", out)
		})
	}
}
