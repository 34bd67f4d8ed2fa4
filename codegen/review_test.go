package codegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestReviewGeneratedCompiles generates modules whose files used not to
// compile and vets them, as TestGeneratedCompiles does.
func TestReviewGeneratedCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	cases := []struct{ name, src string }{
		// The second a field falls back to Arg3, the name of the second
		// parameter.
		{"args fields that fall back to a parameter's name", `package m

//keel:reducer
func G(ctx *Ctx, a int, Arg3 string, A bool) error { return nil }
`},
		// An init reducer a is called where no a is bound.
		{"init reducer named a", `package m

//keel:reducer init
func a(ctx *Ctx) error { return nil }
`},
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
		if err := os.WriteFile(filepath.Join(dir, "m.go"), []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
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
