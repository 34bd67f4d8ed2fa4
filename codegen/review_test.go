package codegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keeldb/keel/codegen"
)

// TestReviewErrors checks inputs that keelgen used to accept silently,
// dropping what they declare, or turn into a file that does not compile.
func TestReviewErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"two db keys in one tag", "//keel:table\ntype T struct {\n\tID int `db:\"pk\" db:\"unique\"`\n}",
			`x.go:5:9: the struct tag of field ID has 2 db keys, and only the first (db:"pk") would be read, losing the others' options; merge them into one db:"..." with their options separated by commas`},
		{"marker above a group of types", "//keel:table\ntype (\n\tA struct{ ID int }\n\tB struct{ ID int }\n)",
			`x.go:3:1: //keel:table stands above a group of 2 declarations and marks none of them; move it into the group, to the doc comment of the declaration it marks`},
		{"reducer named a", "//keel:reducer\nfunc a(ctx *Ctx, n int) (int, error) { return n, nil }",
			`x.go:4:6: reducer a would be shadowed by the argument a of its generated binding; rename the reducer`},
		{"marker with a space after the slashes", "// keel:table\ntype T struct {\n\tID int `db:\"pk\"`\n}",
			`x.go:3:1: // keel:table has a space after //, so keelgen reads it as a plain comment and ignores it; write //keel:table with no space`},
		{"schedule reducer named row", "import \"time\"\n\n//keel:table schedule=row\ntype J struct {\n\tID uint64    `db:\"pk\"`\n\tAt time.Time `db:\"schedule_at\"`\n}\n\n//keel:reducer\nfunc row(ctx *Ctx, r J) error { return nil }",
			`x.go:12:6: reducer row would be shadowed by the argument row of the schedule of table J that calls it; rename the reducer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := firstError(t, map[string]string{"x.go": "package m\n\n" + c.src + "\n"})
			if got != c.want {
				t.Errorf("first error:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestReviewErrorInternalType checks that a column or parameter whose
// type, through an exported alias, is in an internal package the module
// may not import is refused: the generated file could not import it.
func TestReviewErrorInternalType(t *testing.T) {
	for _, c := range []struct{ decl, want string }{
		{"//keel:table\ntype T struct {\n\tID int `db:\"pk\"`\n\tX  dep.L\n}",
			"x.go:8:5: field X of table T: Keel cannot store dep.L: it names x.L, and package m/dep/internal/x is internal, so the generated file in package m cannot import it; use a type of a package it can import, or tag the field db:\"-\" to leave it out"},
		{"//keel:reducer\nfunc F(ctx *Ctx, l []dep.L) error { return nil }",
			"x.go:6:20: parameter l of reducer F: Keel cannot store []dep.L: it names x.L, and package m/dep/internal/x is internal, so the generated file in package m cannot import it; use a type of a package it can import, or a table row"},
	} {
		got := firstError(t, map[string]string{
			"dep/internal/x/x.go": "package x\n\ntype L int8\n",
			"dep/dep.go":          "package dep\n\nimport \"m/dep/internal/x\"\n\ntype L = x.L\n",
			"x.go":                "package m\n\nimport \"m/dep\"\n\n" + c.decl + "\n",
		})
		if got != c.want {
			t.Errorf("first error:\n got %s\nwant %s", got, c.want)
		}
	}
}

// TestReviewGeneratedCompiles generates modules whose files used not to
// compile and vets them, as TestGeneratedCompiles does.
func TestReviewGeneratedCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	cases := []struct {
		name, src string
		files     map[string]string // more files of the module, by path
	}{
		// The second a field falls back to Arg3, the name of the second
		// parameter.
		{"args fields that fall back to a parameter's name", `package m

//keel:reducer
func G(ctx *Ctx, a int, Arg3 string, A bool) error { return nil }
`, nil},
		// An init reducer a is called where no a is bound.
		{"init reducer named a", `package m

//keel:reducer init
func a(ctx *Ctx) error { return nil }
`, nil},
		// A package named d (or r, dst, ...) was imported under its own
		// name, which the codecs' locals shadow: d.Kind(d.Uint(8)) with d
		// the codec.Reader.
		{"types of packages named like the generated locals", `package m

import (
	"time"

	"github.com/keeldb/keel/codegen/testdata/REVIEW/d"
	"github.com/keeldb/keel/codegen/testdata/REVIEW/r"
)

//keel:table
type T struct {
	ID   uint64    ` + "`db:\"pk\"`" + `
	K    d.Kind    ` + "`db:\"index\"`" + `
	At   r.Stamp
	Ks   []d.Kind
	Skip d.Kind    ` + "`db:\"-\"`" + `
	When time.Time
}

//keel:reducer
func Put(ctx *Ctx, k d.Kind, ks []d.Kind, at r.Stamp) (d.Kind, error) { return k, nil }
`, map[string]string{
			"d/d.go": "package d\n\ntype Kind uint8\n",
			"r/r.go": "package r\n\nimport \"time\"\n\ntype Stamp time.Time\n",
		}},
	}
	root, err := os.MkdirTemp("testdata", "review")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	for i, c := range cases {
		dir := filepath.Join(root, "m"+string(rune('a'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		src := strings.ReplaceAll(c.src, "REVIEW", filepath.ToSlash(filepath.Join(filepath.Base(root), filepath.Base(dir))))
		if err := os.WriteFile(filepath.Join(dir, "m.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		for name, s := range c.files {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := codegen.Generate(codegen.Config{Dir: dir})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := os.WriteFile(out.Path, out.Src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("go", "vet", "./"+filepath.ToSlash(root)+"/...").CombinedOutput(); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
}
