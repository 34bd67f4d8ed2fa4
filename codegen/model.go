package codegen

import (
	"go/token"
	"go/types"
	"math/big"
)

// kind is the storage class of a column type.
type kind int

const (
	kBool kind = iota
	kInt
	kUint
	kFloat
	kString
	kBytes
	kTime
	kSlice
	kRow // a table row: reducer arguments and results only
)

// colType is a supported Go type with what the emitter needs to encode,
// decode, compare and format it.
type colType struct {
	kind  kind
	bits  int             // kInt, kUint, kFloat: 8..64; 0 for int and uint
	basic types.BasicKind // kInt, kUint: the underlying basic kind
	expr  string          // the type as written in the generated file
	named bool            // expr is a defined type over its storage type
	elem  *colType        // kSlice
	row   *tableModel     // kRow
}

// column is one stored field of a table.
type column struct {
	Field string // Go field name
	Name  string // column name
	Type  *colType
	Pos   token.Position // the field's position
	TagAt token.Position // the tag's position (the field's when untagged)
	seq   *seqModel
	// Default is the column's default as codec.ParseJSON reads it, or ""
	// (db:"default=...", see migrate.go).
	Default string
}

// indexModel is the primary key or a secondary index.
type indexModel struct {
	Name    string // without the table prefix: "pk", "slug", "by_shop_status"
	Go      string // accessor name: "ByID", "BySlug", "ByShopStatus"
	Cols    []*column
	Unique  bool
	Primary bool
	Hash    bool // a hash index: point lookups only
	Pos     token.Position
}

// seqModel is the sequence of one autoinc column.
type seqModel struct {
	col              *column
	start, min, max  *big.Int
	increment        int64
	batch            uint64
	noCycle, advance bool
}

// tableModel is one //keel:table struct.
type tableModel struct {
	Type    string // Go type name
	Go      string // exported form of Type, the prefix of generated names
	Name    string // table name
	Cols    []*column
	Primary *indexModel // nil for a table without a primary key (a set)
	Indexes []*indexModel
	Pos     token.Position
	fields  []fieldGuard // every field, stored or not, for the build guard
	// Schedule is the reducer a schedule table's rows call ("" for other
	// tables), SchedAt its time column and SchedAtIndex the index on it,
	// SchedEvery its interval column (or nil).
	Schedule     string
	SchedAt      *column
	SchedAtIndex *indexModel
	SchedEvery   *column
	// Public makes the table readable by clients of a network server
	// (//keel:table public).
	Public bool
}

// fieldGuard is one field of the table struct as declared.
type fieldGuard struct {
	Name string
	Type string
	Tag  string // the raw tag, quoted as in the source
}

// param is one argument of a reducer.
type param struct {
	Name  string // as declared (or argN)
	Field string // field of the generated args struct
	Type  *colType
}

// reducerModel is one //keel:reducer function.
type reducerModel struct {
	Func string
	Init bool
	// Lifecycle is "connect" or "disconnect" for the reducers a network
	// server calls when a client connects or disconnects, else "".
	Lifecycle string
	Params    []param
	Result    *colType // nil: the reducer returns only error
	Pos       token.Position
}

// module is everything the emitter writes for one package.
type module struct {
	Pkg      string // package name
	Tables   []*tableModel
	Reducers []*reducerModel
	// Migrations and Dropped are what the module declares for schema
	// migrations (//keel:migrate, //keel:dropped; see migrate.go).
	Migrations []*migrationModel
	Dropped    []string
}
