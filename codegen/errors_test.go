package codegen_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keeldb/keel/codegen"
)

// errorCases hold one module each that keelgen must refuse, and the start
// of the one error it must report: file:line:col and the sentence.
var errorCases = []struct {
	name, src, want string
}{
	{"column type", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	M  map[string]int
}`, `x.go:6:5: field M of table T: Keel cannot store map[string]int; use bool, an integer or float type, string, []byte, time.Time, a named type over one of these, or a slice of them, or tag the field db:"-" to leave it out`},
	{"slice of slices", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	M  [][]string
}`, `x.go:6:5: field M of table T: Keel cannot store [][]string, a slice of slices; use one level of slice, or a table of its own, or tag the field db:"-" to leave it out`},
	{"unknown tag option", `
//keel:table
type T struct {
	ID int ` + "`db:\"primary\"`" + `
}`, `x.go:5:9: unknown option "primary" in the db tag of field ID; the options are pk, unique, unique=NAME, index, index=NAME, hash, autoinc, autoinc(PARAMS), name=NAME, default=VALUE, schedule_at, schedule_every and -`},
	{"hash without a unique key", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	N  string ` + "`db:\"index,hash\"`" + `
}`, `x.go:6:12: db tag of field N has hash without pk or unique; hash makes the primary key or the column's unique index a hash index (point lookups only): write pk,hash or unique,hash`},
	{"hash on part of a primary key", `
//keel:table
type T struct {
	A int ` + "`db:\"pk,hash\"`" + `
	B int ` + "`db:\"pk\"`" + `
}`, `x.go:6:8: fields A and B of the primary key of table T disagree on hash; tag every pk field of a hash primary key with hash, or none`},
	{"empty tag option", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,,unique\"`" + `
}`, `x.go:5:9: db tag of field ID has an empty option; remove the extra comma`},
	{"dash with options", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	X  int ` + "`db:\"-,index\"`" + `
}`, `x.go:6:9: db tag of field X combines - with other options; use db:"-" alone to leave the field out of the table`},
	{"db tag that does not parse", `
//keel:table
type T struct {
	ID int ` + "`db: \"pk\"`" + `
}`, `x.go:5:9: the struct tag of field ID mentions db but is not a list of key:"value" pairs, so its db options cannot be read; write db:"..." with no space after the colon, and spaces between pairs`},
	{"pk twice", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,pk\"`" + `
}`, `x.go:5:9: db tag of field ID repeats pk; write it once`},
	{"unique twice", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	B  int ` + "`db:\"unique,unique\"`" + `
}`, `x.go:6:9: db tag of field B repeats unique; write it once`},

	{"bad index name", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,index=1x\"`" + `
}`, `x.go:5:9: db tag of field ID: index name "1x" is not an identifier; use letters, digits and underscores, e.g. index=by_author`},
	{"bad column name", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,name=a-b\"`" + `
}`, `x.go:5:9: db tag of field ID: column name "a-b" is not an identifier; use letters, digits and underscores, e.g. name=author_id`},
	{"unclosed parenthesis", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(start=1\"`" + `
}`, `x.go:5:9: db tag of field ID: unclosed ( in "pk,autoinc(start=1"; close autoinc( with )`},
	{"autoinc twice", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc,autoinc\"`" + `
}`, `x.go:5:9: db tag of field ID repeats autoinc; write it once`},
	{"unknown autoinc parameter", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(step=2)\"`" + `
}`, `x.go:5:9: db tag of field ID: unknown autoinc parameter "step=2"; the parameters are start=N, min=N, max=N, increment=N, batch=N, nocycle and advance`},
	{"autoinc parameter twice", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(max=5,max=6)\"`" + `
}`, `x.go:5:9: db tag of field ID: autoinc parameter max is given twice; keep one`},
	{"autoinc flag with value", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(nocycle=1)\"`" + `
}`, `x.go:5:9: db tag of field ID: autoinc parameter nocycle takes no value; write nocycle alone`},
	{"autoinc parameter without value", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(start)\"`" + `
}`, `x.go:5:9: db tag of field ID: autoinc parameter start needs a value; write start=N`},
	{"autoinc parameter not an integer", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(start=x)\"`" + `
}`, `x.go:5:9: db tag of field ID: autoinc start=x is not an integer; write a decimal or 0x hexadecimal integer`},
	{"autoinc on a string", `
//keel:table
type T struct {
	ID string ` + "`db:\"pk,autoinc\"`" + `
}`, `x.go:5:12: field ID is string and cannot be autoinc: a sequence fills integers only; make the field an integer type or drop autoinc`},
	{"autoinc outside the type", `
//keel:table
type T struct {
	ID uint8 ` + "`db:\"pk,autoinc(max=300)\"`" + `
}`, `x.go:5:11: autoinc max=300 on field ID is outside the range of uint8 (0..255); choose a value inside it`},
	{"autoinc int bound past 32 bits", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(min=-9223372036854775808)\"`" + `
}`, `x.go:5:9: autoinc min=-9223372036854775808 on field ID is outside the range int has on 32-bit targets (-2147483648..2147483647), where the generated code would not compile; make the field int64 or choose a value inside it`},
	{"autoinc uint bound past 32 bits", `
//keel:table
type T struct {
	ID uint ` + "`db:\"pk,autoinc(max=4294967296)\"`" + `
}`, `x.go:5:10: autoinc max=4294967296 on field ID is outside the range uint has on 32-bit targets (0..4294967295), where the generated code would not compile; make the field uint64 or choose a value inside it`},
	{"autoinc zero increment", `
//keel:table
type T struct {
	ID int16 ` + "`db:\"pk,autoinc(increment=0)\"`" + `
}`, `x.go:5:11: autoinc increment=0 on field ID must be a non-zero 64-bit integer; use a step such as 1 or -1`},
	{"autoinc zero batch", `
//keel:table
type T struct {
	ID int16 ` + "`db:\"pk,autoinc(batch=0)\"`" + `
}`, `x.go:5:11: autoinc batch=0 on field ID must be a positive 64-bit integer; leave it out for the default of 1024`},
	{"autoinc range holds zero", `
//keel:table
type T struct {
	ID int8 ` + "`db:\"pk,autoinc(min=-5,max=5)\"`" + `
}`, `x.go:5:10: autoinc on field ID: range -5..5 contains 0, the value that asks for generation; change start, min, max or increment so the range holds the start and excludes 0`},
	{"autoinc start outside range", `
//keel:table
type T struct {
	ID uint8 ` + "`db:\"pk,autoinc(start=20,min=1,max=10)\"`" + `
}`, `x.go:5:11: autoinc on field ID: start 20 is outside the range 1..10; change start, min, max or increment so the range holds the start and excludes 0`},
	{"autoinc increment too large", `
//keel:table
type T struct {
	ID uint8 ` + "`db:\"pk,autoinc(min=1,max=10,increment=-20)\"`" + `
}`, `x.go:5:11: autoinc on field ID: increment -20 is larger than the range 1..10; change start, min, max or increment so the range holds the start and excludes 0`},
	{"key on a slice", `
//keel:table
type T struct {
	ID   int      ` + "`db:\"pk\"`" + `
	Tags []string ` + "`db:\"index\"`" + `
}`, `x.go:6:16: field Tags is a slice ([]string) and cannot be part of index tags of table T; keys must be single values, so drop the option or keep the values in a table of their own`},
	{"key on a float", `
//keel:table
type T struct {
	ID    int     ` + "`db:\"pk\"`" + `
	Score float64 ` + "`db:\"unique\"`" + `
}`, `x.go:6:16: field Score is a float (float64) and cannot be part of index score of table T, since NaN and -0 have no stable order; key on an integer (e.g. cents) or a string instead`},
	{"two indexes with one name", `
//keel:table
type T struct {
	ID    int    ` + "`db:\"pk\"`" + `
	Slug  string ` + "`db:\"unique\"`" + `
	Title string ` + "`db:\"index=slug\"`" + `
}`, `x.go:7:15: table T has two indexes named slug (the other is at x.go:6:15); rename one with index=NAME or unique=NAME`},
	{"two accessors with one name", `
//keel:table
type T struct {
	ID    int    ` + "`db:\"pk\"`" + `
	Slug  string ` + "`db:\"index=by_slug\"`" + `
	Title string ` + "`db:\"index=slug\"`" + `
}`, `x.go:7:15: indexes by_slug and slug of table T both get the accessor BySlug; rename one with index=NAME or unique=NAME`},
	{"named index of two kinds", `
//keel:table
type T struct {
	ID   int    ` + "`db:\"pk\"`" + `
	Shop string ` + "`db:\"unique=by_shop\"`" + `
	Day  int    ` + "`db:\"index=by_shop\"`" + `
}`, `x.go:7:14: index by_shop is unique=by_shop on field Shop but index=by_shop on field Day; use one kind for every field of the index`},
	{"field twice in an index", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,index=x,index=x\"`" + `
}`, `x.go:5:9: field ID names index x twice; name it once`},
	{"two columns with one name", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	A  int ` + "`db:\"name=id\"`" + `
}`, `x.go:6:2: fields ID and A of table T both have the column name id; set another with db:"name=NAME"`},
	{"embedded field", `
type Base struct{ ID int }

//keel:table
type T struct {
	Base
}`, `x.go:7:2: table T embeds Base; a table holds named fields only, so give the field a name`},
	{"no columns", `
//keel:table
type T struct {
	X int ` + "`db:\"-\"`" + `
}`, `x.go:4:6: table T stores no columns; add a field without db:"-"`},
	{"set with a slice", `
//keel:table
type T struct {
	Tags []string
}`, `x.go:5:2: table T has no primary key, so Keel orders whole rows, and field Tags is a slice that has no order; mark a key with db:"pk"`},
	{"set with an index named rows", `
//keel:table
type T struct {
	A    string
	Rows int ` + "`db:\"index\"`" + `
}`, `x.go:6:11: table T has no primary key, so its whole-row key is named t_rows, and index rows would have that name too; rename the index with index=NAME or unique=NAME, or mark a key with db:"pk"`},
	{"table not a struct", `
//keel:table
type T int`, `x.go:4:6: //keel:table marks struct types and T is not a struct; declare it as type T struct { ... }`},
	{"generic table", `
//keel:table
type T[X any] struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:4:6: table T has type parameters; a table is a plain struct, so remove them`},
	{"table marker on a variable", `
//keel:table
var T int`, `x.go:3:1: //keel:table marks struct types; move it to a type declaration`},
	{"unknown table option", `
//keel:table hidden
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:3:1: unknown option "hidden" on //keel:table; the options are name=NAME, schedule=REDUCER and public`},
	{"two connect reducers", `
//keel:reducer connect
func A(ctx *Ctx) error { return nil }

//keel:reducer connect
func B(ctx *Ctx) error { return nil }`, `x.go:7:6: reducer B is a second connect reducer after A; a module has at most one, so drop connect from one of them`},
	{"connect reducer with arguments", `
//keel:reducer disconnect
func A(ctx *Ctx, n int) error { return nil }`, `x.go:4:6: disconnect reducer A runs when a client disconnects, with the client as ctx.Caller, so it takes no arguments and returns only error; declare it as func A(ctx *Ctx) error`},
	{"bad table name", `
//keel:table name=a.b
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:3:1: table name "a.b" is not an identifier; use letters, digits and underscores, e.g. //keel:table name=post`},
	{"two tables with one name", `
//keel:table name=t
type A struct {
	ID int ` + "`db:\"pk\"`" + `
}

//keel:table name=t
type B struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:9:6: table name t is also the name of A (x.go:4:6); give one of them another name with //keel:table name=NAME`},
	{"unknown marker", `
//keel:tabel
type T struct{ ID int }`, `x.go:3:1: //keel:tabel cannot mark a type or value; mark struct types with //keel:table and functions with //keel:reducer`},
	{"table marker on a function", `
//keel:table
func F() {}`, `x.go:3:1: //keel:table cannot mark a function; mark reducers with //keel:reducer`},
	{"unknown reducer option", `
//keel:reducer once
func F(ctx *Ctx) error { return nil }`, `x.go:3:1: unknown option "once" on //keel:reducer; the options are init, connect and disconnect`},
	{"reducer without ctx", `
//keel:reducer
func F(n int) error { return nil }`, `x.go:4:8: the first parameter of reducer F must be ctx *Ctx; declare it as func F(ctx *Ctx, ...) error`},
	{"reducer with two ctx", `
//keel:reducer
func F(a, b *Ctx) error { return nil }`, `x.go:4:11: reducer F takes a second *Ctx; declare the context once, as the first parameter`},
	{"reducer method", `
type S struct{}

//keel:reducer
func (S) F(ctx *Ctx) error { return nil }`, `x.go:6:10: reducer F is a method; a reducer is a plain function, so declare it as func F(ctx *Ctx, ...) error`},
	{"generic reducer", `
//keel:reducer
func F[X any](ctx *Ctx) error { return nil }`, `x.go:4:6: reducer F has type parameters; a reducer takes concrete types, so remove them`},
	{"variadic reducer", `
//keel:reducer
func F(ctx *Ctx, xs ...int) error { return nil }`, `x.go:4:21: reducer F is variadic; take a slice instead, e.g. xs []T`},
	{"reducer parameter type", `
//keel:reducer
func F(ctx *Ctx, ch chan int) error { return nil }`, `x.go:4:21: parameter ch of reducer F: Keel cannot store chan int; use bool, an integer or float type, string, []byte, time.Time, a named type over one of these, or a slice of them, or a table row`},
	{"reducer without results", `
//keel:reducer
func F(ctx *Ctx) {}`, `x.go:4:1: reducer F must return error or (T, error); declare it as func F(ctx *Ctx, ...) error`},
	{"reducer without error", `
//keel:reducer
func F(ctx *Ctx) (int, bool) { return 0, false }`, `x.go:4:24: the last result of reducer F must be error; declare it as func F(ctx *Ctx, ...) error`},
	{"reducer result type", `
//keel:reducer
func F(ctx *Ctx) (*int, error) { return nil, nil }`, `x.go:4:19: the result of reducer F: Keel cannot store *int; use bool, an integer or float type, string, []byte, time.Time, a named type over one of these, or a slice of them, or a table row`},
	{"init with arguments", `
//keel:reducer init
func F(ctx *Ctx, n int) error { return nil }`, `x.go:4:6: init reducer F runs with no caller, so it takes no arguments and returns only error; declare it as func F(ctx *Ctx) error`},
	{"two init reducers", `
//keel:reducer init
func A(ctx *Ctx) error { return nil }

//keel:reducer init
func B(ctx *Ctx) error { return nil }`, `x.go:7:6: reducer B is a second init reducer; a module has at most one, so drop init from one of them`},
	{"reducer named like a client method", `
//keel:reducer
func View(ctx *Ctx) error { return nil }`, `x.go:4:6: reducer View would clash with the Client or Remote method of that name; rename the reducer`},
	{"reducer named like a connection method", `
//keel:reducer
func Query(ctx *Ctx) error { return nil }`, `x.go:4:6: reducer Query would clash with the Client or Remote method of that name; rename the reducer`},
	{"declaration with a generated name", `
//keel:table
type Post struct {
	ID int ` + "`db:\"pk\"`" + `
}

type PostTable struct{}`, `x.go:8:6: PostTable is a name keelgen generates for table Post; rename your declaration`},
	{"two tables with one generated name", `
//keel:table
type P struct {
	ID   int ` + "`db:\"pk\"`" + `
	QByR int ` + "`db:\"index\"`" + `
}

//keel:table
type PByQ struct {
	ID int ` + "`db:\"pk\"`" + `
	R  int ` + "`db:\"index\"`" + `
}`, `x.go:10:6: table P and table PByQ would both get the generated name PByQByRIndex; rename one of them, or the index or field the name comes from`},
	{"table and reducer with one generated name", `
//keel:table
type P struct {
	A string ` + "`db:\"pk,unique=by_args\"`" + `
	B string ` + "`db:\"unique=by_args\"`" + `
}

//keel:reducer
func PBy(ctx *Ctx) error { return nil }`, `x.go:10:6: table P and reducer PBy would both get the generated name PByArgs; rename one of them, or the index or field the name comes from`},
	{"reducer named like a field of the async client", `
//keel:reducer
func c(ctx *Ctx) error { return nil }`, `x.go:4:6: reducer c would clash with the field c of the generated AsyncClient; rename the reducer`},
	{"declaration with an import name", `
var table = 1`, `x.go:3:5: package-level name table clashes with an import of the generated file; rename it`},
	{"nested parentheses", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc((start=1))\"`" + `
}`, `x.go:5:9: db tag of field ID: nested parentheses at offset 11; autoinc(...) takes plain name=value parameters`},
	{"unbalanced parenthesis", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk)\"`" + `
}`, `x.go:5:9: db tag of field ID: unbalanced ) at offset 2; close each autoinc( with one )`},
	{"text after autoinc", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc(start=1)x\"`" + `
}`, `x.go:5:9: db tag of field ID: "autoinc(start=1)x" has text after its closing parenthesis; write autoinc(PARAMS) as one option`},
	{"table option twice", `
//keel:table name=a name=b
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:3:1: option name is given twice on //keel:table; keep one`},
	{"alias table", `
type S struct{ ID int }

//keel:table
type T = S`, `x.go:6:6: table T is an alias; declare the struct type itself with //keel:table`},
	{"two types with one prefix", `
//keel:table name=a
type post struct {
	ID int ` + "`db:\"pk\"`" + `
}

//keel:table name=b
type Post struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:9:6: types Post and post both give generated names starting with Post; rename one`},
	{"default out of range", `
//keel:table
type T struct {
	ID  int ` + "`db:\"pk\"`" + `
	Lvl int8 ` + "`db:\"default=200\"`" + `
}`, `x.go:6:11: field Lvl of table T: default=200 does not fit int8: it is outside the range of int8 (-128..127)`},
	{"default not an integer", `
//keel:table
type T struct {
	ID  int ` + "`db:\"pk\"`" + `
	N   uint32 ` + "`db:\"default=-1\"`" + `
}`, `x.go:6:13: field N of table T: default=-1 does not fit uint32: it is outside the range of uint32 (0..4294967295)`},
	{"default bool", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	On bool ` + "`db:\"default=yes\"`" + `
}`, `x.go:6:10: field On of table T: default=yes does not fit bool: write true or false`},
	{"default time", `
import "time"

//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	At time.Time ` + "`db:\"default=yesterday\"`" + `
}`, `x.go:8:15: field At of table T: default=yesterday does not fit time.Time: write a time in RFC 3339, e.g. 2024-01-02T15:04:05Z`},
	{"default float", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	F  float32 ` + "`db:\"default=1e40\"`" + `
}`, `x.go:6:13: field F of table T: default=1e40 does not fit float32: write a Go float literal within the range of float32`},
	{"default slice", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	S  []string ` + "`db:\"default=a\"`" + `
}`, `x.go:6:14: field S of table T: default=a does not fit []string: a slice column takes no default (stored rows get an empty slice); drop default`},
	{"default and autoinc", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk,autoinc,default=3\"`" + `
}`, `x.go:5:9: field ID of table T has both autoinc and default; a sequence fills an autoinc column, so drop one of them`},
	{"dropped table still there", `
//keel:dropped t
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}`, `x.go:3:1: //keel:dropped names table t, which the module still has (T); remove the table or the declaration`},
	{"dropped column still there", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
	// The body was dropped. //keel:dropped stands anywhere.
	//keel:dropped t.id
	Body string
}`, `x.go:7:2: //keel:dropped names column id of table t, which it still has; remove the field or the declaration`},
	{"dropped bad name", `
//keel:dropped t.a.b
var x int`, `x.go:3:1: //keel:dropped t.a.b is not a table or column name; write TABLE or TABLE.COLUMN, e.g. //keel:dropped post.body`},
	{"migration takes a table", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}

//keel:migrate
func M(old T) T { return old }`, `x.go:9:12: migration function M takes T, a table as it is now; declare the old row shape as a struct of its own and take that`},
	{"migration returns no row", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}

type TV1 struct{ ID int }

//keel:migrate
func M(old TV1) (int, error) { return 0, nil }`, `x.go:11:18: migration function M must return a row of one of the module's tables; declare it as func M(old OldShape) (Row, error)`},
	{"migration from the current shape", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}

type TV1 struct{ ID int }

//keel:migrate
func M(old TV1) T { return T{ID: old.ID} }`, `x.go:11:12: the old shape TV1 of migration function M has the columns of table t as it is now (id), so it would never run; declare the columns the older version stored`},
	{"two migrations of a table", `
//keel:table
type T struct {
	ID int ` + "`db:\"pk\"`" + `
}

type TV1 struct{ Key int }
type TV2 struct{ No int }

//keel:migrate
func M1(old TV1) T { return T{ID: old.Key} }

//keel:migrate
func M2(old TV2) T { return T{ID: old.No} }`, `x.go:15:6: migration functions M1 and M2 both migrate table t; a table has one, from the shape its data has now, so remove the older one`},
	{"package does not compile", `
var x int = "s"`, `x.go:3:13: cannot use "s" (untyped string constant) as int value in variable declaration (the package must compile apart from the names keelgen generates)`},
}

var pathRE = regexp.MustCompile(`[^\s(]*x\.go`)

func TestErrors(t *testing.T) {
	seen := map[string]string{}
	for _, c := range errorCases {
		msg := c.want[strings.Index(c.want, ": ")+2:]
		if o, dup := seen[msg]; dup {
			t.Errorf("cases %q and %q test the same message", o, c.name)
		}
		seen[msg] = c.name
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write := func(name, s string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", "module m\n\ngo 1.26\n")
			write("x.go", "package m\n"+c.src+"\n")
			out, err := codegen.Generate(codegen.Config{Dir: dir})
			var list codegen.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Generate = %v, %v; want an ErrorList", out, err)
			}
			// Paths are relative to the working directory: keep the base.
			got := pathRE.ReplaceAllString(list[0].Error(), "x.go")
			if got != c.want {
				t.Errorf("first error:\n got %s\nwant %s\n(all: %v)", got, c.want, err)
			}
		})
	}
}

// firstError generates module m from files and returns its first error,
// with the paths shortened to their base names.
func firstError(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module m\n\ngo 1.26\n"
	for name, s := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := codegen.Generate(codegen.Config{Dir: dir})
	var list codegen.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Generate = %v, %v; want an ErrorList", out, err)
	}
	return pathRE.ReplaceAllString(list[0].Error(), "x.go")
}

// TestErrorSecondCtx checks that a second *Ctx parameter of its own is
// reported as such, like one declared with the first (case "reducer with
// two ctx"), not as a type that does not resolve.
func TestErrorSecondCtx(t *testing.T) {
	got := firstError(t, map[string]string{
		"x.go": "package m\n\n//keel:reducer\nfunc F(ctx *Ctx, n int, b *Ctx) error { return nil }\n",
	})
	const want = "x.go:4:25: reducer F takes a second *Ctx; declare the context once, as the first parameter"
	if got != want {
		t.Errorf("first error:\n got %s\nwant %s", got, want)
	}
}

// TestErrorUnexportedType checks that a column whose type, through an
// exported alias, is another package's unexported type is refused: the
// generated file could not name it.
func TestErrorUnexportedType(t *testing.T) {
	for _, typ := range []string{"dep.Exp", "[]dep.Exp", "dep.List[dep.Exp]"} {
		got := firstError(t, map[string]string{
			"dep/dep.go": "package dep\n\ntype unexp int64\n\ntype Exp = unexp\n\ntype List[T any] []T\n",
			"x.go":       "package m\n\nimport \"m/dep\"\n\n//keel:table\ntype T struct {\n\tID int `db:\"pk\"`\n\tX  " + typ + "\n}\n",
		})
		want := "x.go:8:5: field X of table T: Keel cannot store " + typ + ": it names unexp, which package m/dep does not export, so the generated file cannot; use an exported type, or tag the field db:\"-\" to leave it out"
		if got != want {
			t.Errorf("first error:\n got %s\nwant %s", got, want)
		}
	}
}
