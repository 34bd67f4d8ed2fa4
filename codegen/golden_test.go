package codegen_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/keeldb/keel/codegen"
)

var update = flag.Bool("update", false, "rewrite the golden keel_gen.go files under testdata")

// goldenModules are the packages under testdata whose keel_gen.go is the
// golden output. Each is also compiled, vetted and tested as a real
// package of this module. The blog is generated with Config.Remote too:
// its remote/keel_gen.go is golden as well, and compiled.
var goldenModules = []string{"blog", "minimal", "evolve"}

func TestGolden(t *testing.T) {
	for _, name := range goldenModules {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			remote := name == "blog"
			out, err := codegen.Generate(codegen.Config{Dir: dir, Remote: remote})
			if err != nil {
				t.Fatal(err)
			}
			files := []*codegen.Output{out}
			if remote {
				want, _ := filepath.Abs(filepath.Join(dir, codegen.RemoteDir, codegen.DefaultOutput))
				if out.Remote == nil || out.Remote.Path != want {
					t.Fatalf("remote output %+v", out.Remote)
				}
				files = append(files, out.Remote)
			} else if out.Remote != nil {
				t.Fatalf("remote output without Config.Remote: %s", out.Remote.Path)
			}
			for _, o := range files {
				golden := o.Path
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, o.Src, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(o.Src, want) {
					t.Errorf("%s differs from the generator's output; run go test ./codegen -update and review the diff", golden)
				}
				if !bytes.HasPrefix(o.Src, []byte(codegen.Header+"\n")) {
					t.Errorf("output does not start with %q", codegen.Header)
				}
			}
		})
	}
}

// TestGoldenCompiles builds, vets and tests the golden packages as real
// packages: go build ./... skips testdata, so name them explicitly.
func TestGoldenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, name := range goldenModules {
		t.Run(name, func(t *testing.T) {
			pkg := "./" + filepath.ToSlash(filepath.Join("testdata", name))
			runs := [][]string{{"vet", pkg}, {"test", "-count=1", pkg}}
			if name == "blog" {
				runs = append(runs, []string{"vet", pkg + "/remote"})
			}
			for _, args := range runs {
				cmd := exec.Command("go", args...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("go %v: %v\n%s", args, err, out)
				}
			}
		})
	}
}
