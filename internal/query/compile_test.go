package query

import (
	"errors"
	"slices"
	"testing"

	"github.com/keeldb/keel/codec"
)

// TestCompileErrors: names that do not resolve, private tables, kinds
// that do not compare, literals out of their column's range, and what
// only one-off queries may do, each with its exact position.
func TestCompileErrors(t *testing.T) {
	const j = "SELECT user.* FROM user JOIN team ON user.team = team.id "
	cases := []struct {
		in     string
		oneOff bool
		want   string
	}{
		{"SELECT * FROM usr", false, `1:15: unknown table "usr"`},
		{"SELECT * FROM User", false, `1:15: unknown table "User" (did you mean "user"?)`},
		{"SELECT * FROM secret", false, `1:15: table "secret" is private`},
		{"SELECT * FROM user WHERE nmae = 1", false, `1:26: unknown column "nmae" in table "user"`},
		{"SELECT * FROM user WHERE Name = 'x'", false, `1:26: unknown column "Name" in table "user" (did you mean "name"?)`},
		{"SELECT * FROM user WHERE name = 1", false, `1:33: cannot compare string column name with integer 1`},
		{"SELECT * FROM user WHERE 1 = name", false, `1:26: cannot compare string column name with integer 1`},
		{"SELECT * FROM user WHERE age = 'x'", false, `1:32: cannot compare int8 column age with string 'x'`},
		{"SELECT * FROM user WHERE age = 128", false, `1:32: 128 is out of range for int8 column age`},
		{"SELECT * FROM user WHERE age > -129", false, `1:32: -129 is out of range for int8 column age`},
		{"SELECT * FROM user WHERE team = 2147483648", false, `1:33: 2147483648 is out of range for int32 column team`},
		{"SELECT * FROM user WHERE id = -1", false, `1:31: -1 is out of range for uint64 column id`},
		{"SELECT * FROM user WHERE id = 1.5", false, `1:31: cannot compare uint64 column id with float 1.5`},
		{"SELECT * FROM user WHERE score = 'x'", false, `1:34: cannot compare float64 column score with string 'x'`},
		{"SELECT * FROM user WHERE active = 1", false, `1:35: cannot compare bool column active with integer 1`},
		{"SELECT * FROM user WHERE name = TRUE", false, `1:33: cannot compare string column name with boolean TRUE`},
		{"SELECT * FROM user WHERE name = X'00'", false, `1:33: cannot compare string column name with bytes X'00'`},
		{"SELECT * FROM team WHERE key = 'x'", false, `1:32: cannot compare bytes column key with string 'x': write bytes as X'hex'`},
		{"SELECT * FROM team WHERE at < 'yesterday'", false, `1:31: 'yesterday' is not a time for column at: write RFC 3339, as '2006-01-02T15:04:05Z'`},
		{"SELECT * FROM user WHERE tags = 'x'", false, `1:26: cannot compare column tags: it is a list ([]string)`},
		{"SELECT * FROM user WHERE 1 = 1", false, `1:26: a comparison needs a column: 1 = 1 compares two values`},
		{"SELECT * FROM user WHERE name < age", false, `1:31: cannot compare string column name with int8 column age`},
		{"SELECT * FROM user JOIN team ON user.team = team.id", false, `1:8: SELECT * of a join: name the table whose rows to return, as SELECT user.*`},
		{"SELECT x.* FROM user JOIN team ON user.team = team.id", false, `1:8: unknown table "x": the query reads "user" and "team"`},
		{"SELECT user.* FROM user u JOIN team ON u.team = team.id", false, `1:8: table "user" is called "u" in this query`},
		{"SELECT user.* FROM user JOIN team ON user.team = user.age", false, `1:43: ON compares user.team and user.age, two columns of "user": it must join a column of each table`},
		{"SELECT user.* FROM user JOIN team ON user.name = team.id", false, `1:43: cannot join string column user.name with int32 column team.id: join columns must be of one scalar kind`},
		{"SELECT user.* FROM user JOIN team ON user.tags = team.id", false, `1:43: cannot join []string column user.tags with int32 column team.id: join columns must be of one scalar kind`},
		{j + "WHERE id = 1", false, `1:64: column "id" is in both "user" and "team": qualify it`},
		{j + "WHERE nope = 1", false, `1:64: unknown column "nope" in tables "user" and "team"`},
		{j + "WHERE team.nope = 1", false, `1:69: unknown column "nope" in table "team"`},
		{j + "WHERE user.age < team.level", false, `1:73: user.age and team.level are columns of different tables: only ON compares them`},
		{j + "WHERE team.level = 256", false, `1:77: 256 is out of range for uint8 column team.level`},
		{"SELECT user.* FROM user JOIN team ON user.name = team.region", false, `1:55: join column "region" of table "team" has no index: a subscription join needs one (a one-off query does not)`},
		{"SELECT team.* FROM user JOIN team ON user.score = team.weight", false, `1:43: join column "score" of table "user" has no index: a subscription join needs one (a one-off query does not)`},
		{"SELECT user.* FROM user JOIN user ON user.id = user.id", false, `1:30: table "user" is joined with itself: give one side an alias`},
		{"SELECT user.* FROM user JOIN team AS user ON user.id = user.id", false, `1:38: both tables are called "user": give one another alias`},
		{"SELECT user.* FROM user JOIN secret ON user.id = secret.id", false, `1:30: table "secret" is private`},
		{"SELECT name FROM user", false, `1:8: a subscription selects whole rows (SELECT * or SELECT t.*): a column list is for one-off queries`},
		{"SELECT COUNT(*) FROM user", false, `1:8: a subscription selects whole rows: COUNT(*) is for one-off queries`},
		{"SELECT * FROM user LIMIT 5", false, `1:20: a subscription cannot have a LIMIT: it is for one-off queries`},
		{"SELECT nope FROM user", true, `1:8: unknown column "nope" in table "user"`},
		{"SELECT name, x.id FROM user", true, `1:14: unknown table "x": the query reads "user"`},
		{"SELECT * FROM user WHERE\n  age = 1 AND\n  nmae = 'x'", false, `3:3: unknown column "nmae" in table "user"`},
	}
	for _, c := range cases {
		_, err := Compile(testCatalog, c.in, Options{OneOff: c.oneOff})
		if err == nil {
			t.Errorf("Compile(%q): no error", c.in)
			continue
		}
		if want := "keel: query: " + c.want; err.Error() != want {
			t.Errorf("Compile(%q):\n got %s\nwant %s", c.in, err, want)
		}
		var qe *Error
		if !errors.As(err, &qe) || qe.Offset < 0 || qe.Offset > len(c.in) {
			t.Errorf("Compile(%q): %#v", c.in, err)
		}
	}
}

// TestCompileAccepts: what compiles, and in which mode.
func TestCompileAccepts(t *testing.T) {
	cases := []struct {
		in      string
		opts    Options
		columns []Column
	}{
		{"SELECT * FROM secret", Options{AllowPrivate: true}, secretTable.Columns},
		{"SELECT * FROM user WHERE score = 1 AND score < -2 AND age < score AND id > age", Options{}, userTable.Columns},
		{"SELECT * FROM user WHERE age = -128 AND age <= 127 AND id <= 18446744073709551615", Options{}, userTable.Columns},
		{"SELECT * FROM team WHERE at >= '2024-01-02T03:04:05.5+01:00' AND key = X'00'", Options{}, teamTable.Columns},
		{"SELECT t.* FROM user JOIN team t ON user.team = t.id", Options{}, teamTable.Columns},
		{"SELECT u.* FROM user u JOIN user v ON u.age = v.age", Options{}, userTable.Columns},
		{"SELECT user.* FROM user JOIN team ON user.name = team.region", Options{OneOff: true}, userTable.Columns},
		{"SELECT name, team.level FROM user JOIN team ON user.team = team.id WHERE user.id = 3", Options{OneOff: true},
			[]Column{{"name", codec.KindString}, {"level", codec.KindUint8}}},
		{"SELECT COUNT(*) FROM user LIMIT 1", Options{OneOff: true}, []Column{{"count", codec.KindUint64}}},
	}
	for _, c := range cases {
		q, err := Compile(testCatalog, c.in, c.opts)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(q.Columns(), c.columns) {
			t.Errorf("Compile(%q): columns %v, want %v", c.in, q.Columns(), c.columns)
		}
	}
}
