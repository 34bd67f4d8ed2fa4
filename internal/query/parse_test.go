package query

import (
	"errors"
	"testing"
)

// TestParseCanonical: each construct of the grammar parses, and prints in
// the canonical form that Set keys on.
func TestParseCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{"select * from user", "SELECT * FROM user"},
		{"SELECT * FROM user;", "SELECT * FROM user"},
		{"SeLeCt  *\n\tFROM \"user\" -- all of them\n", "SELECT * FROM user"},
		{`SELECT * FROM "select"`, `SELECT * FROM "select"`},
		{`SELECT * FROM "we""ird"`, `SELECT * FROM "we""ird"`},
		{"SELECT * FROM user WHERE id = 1", "SELECT * FROM user WHERE id = 1"},
		{"SELECT * FROM user WHERE id=0x1F", "SELECT * FROM user WHERE id = 31"},
		{"SELECT * FROM user WHERE age = -5 AND age <> - 0x10", "SELECT * FROM user WHERE age = -5 AND age != -16"},
		{"SELECT * FROM user WHERE age = -0", "SELECT * FROM user WHERE age = 0"},
		{"SELECT * FROM user WHERE id = 007", "SELECT * FROM user WHERE id = 7"},
		{"SELECT * FROM user WHERE score < 1.5e3 OR score >= .5 OR score > 2.", "SELECT * FROM user WHERE score < 1500.0 OR score >= 0.5 OR score > 2.0"},
		{"SELECT * FROM user WHERE score = -1E-7", "SELECT * FROM user WHERE score = -1e-07"},
		{"SELECT * FROM user WHERE name = 'O''Hara'", "SELECT * FROM user WHERE name = 'O''Hara'"},
		{"SELECT * FROM user WHERE name = ''", "SELECT * FROM user WHERE name = ''"},
		{"SELECT * FROM team WHERE key = x'00FF'", "SELECT * FROM team WHERE key = X'00ff'"},
		{"SELECT * FROM team WHERE key = X''", "SELECT * FROM team WHERE key = X''"},
		{"SELECT * FROM user WHERE active = true OR active = False", "SELECT * FROM user WHERE active = TRUE OR active = FALSE"},
		{"SELECT * FROM user WHERE 3 < age", "SELECT * FROM user WHERE 3 < age"},
		{"SELECT * FROM user WHERE age < team", "SELECT * FROM user WHERE age < team"},
		{"SELECT * FROM user WHERE a = 1 OR b = 2 AND c = 3", "SELECT * FROM user WHERE a = 1 OR b = 2 AND c = 3"},
		{"SELECT * FROM user WHERE (a = 1 OR b = 2) AND c = 3", "SELECT * FROM user WHERE (a = 1 OR b = 2) AND c = 3"},
		{"SELECT * FROM user WHERE ((a = 1)) AND (b = 2)", "SELECT * FROM user WHERE a = 1 AND b = 2"},
		{"SELECT * FROM user WHERE NOT a = 1 AND b = 2", "SELECT * FROM user WHERE NOT a = 1 AND b = 2"},
		{"SELECT * FROM user WHERE NOT (a = 1 AND b = 2)", "SELECT * FROM user WHERE NOT (a = 1 AND b = 2)"},
		{"SELECT * FROM user WHERE not not a = 1", "SELECT * FROM user WHERE NOT NOT a = 1"},
		{"SELECT user.* FROM user JOIN team ON user.team = team.id", "SELECT user.* FROM user JOIN team ON user.team = team.id"},
		{"SELECT u.* FROM user AS u INNER JOIN team t ON t.id = u.team WHERE t.level > 1", "SELECT u.* FROM user AS u JOIN team AS t ON t.id = u.team WHERE t.level > 1"},
		{"SELECT name, u.age FROM user u LIMIT 10", "SELECT name, u.age FROM user AS u LIMIT 10"},
		{"SELECT count(*) FROM user", "SELECT COUNT(*) FROM user"},
		{"SELECT count FROM user", "SELECT count FROM user"},
		{"SELECT * FROM user LIMIT 0x10", "SELECT * FROM user LIMIT 16"},
		{"SELECT * FROM héllo WHERE ñ = 1", "SELECT * FROM héllo WHERE ñ = 1"},
	}
	for _, c := range cases {
		s, err := parse(c.in)
		if err != nil {
			t.Errorf("parse(%q): %v", c.in, err)
			continue
		}
		if got := s.String(); got != c.want {
			t.Errorf("parse(%q):\n got %s\nwant %s", c.in, got, c.want)
			continue
		}
		again, err := parse(c.want)
		if err != nil || again.String() != c.want {
			t.Errorf("the canonical form %q does not parse to itself: %v", c.want, err)
		}
	}
}

// TestParseErrors: syntax errors, each with its exact position.
func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `keel: query: 1:1: syntax error: expected SELECT, found end of query`},
		{"UPDATE user", `keel: query: 1:1: syntax error: expected SELECT, found identifier "UPDATE"`},
		{"SELECT FROM user", `keel: query: 1:8: syntax error: expected a column, * or COUNT(*), found keyword FROM (quote it as "from" to use it as a name)`},
		{"SELECT * user", `keel: query: 1:10: syntax error: expected FROM, found identifier "user"`},
		{"SELECT * FROM", `keel: query: 1:14: syntax error: expected a table name, found end of query`},
		{"SELECT * FROM select", `keel: query: 1:15: syntax error: expected a table name, found keyword SELECT (quote it as "select" to use it as a name)`},
		{"SELECT * FROM user WHERE", `keel: query: 1:25: syntax error: expected a column or a value, found end of query`},
		{"SELECT * FROM user WHERE id", `keel: query: 1:28: syntax error: expected a comparison operator (=, !=, <>, <, <=, >, >=), found end of query`},
		{"SELECT * FROM user WHERE id == 1", `keel: query: 1:30: syntax error: expected a column or a value, found "="`},
		{"SELECT * FROM user WHERE id = 1 id = 2", `keel: query: 1:33: syntax error: expected AND, OR, LIMIT or the end of the query, found identifier "id"`},
		{"SELECT * FROM user WHERE (id = 1", `keel: query: 1:33: syntax error: expected ")", found end of query`},
		{"SELECT * FROM user WHERE id = 1)", `keel: query: 1:32: syntax error: expected AND, OR, LIMIT or the end of the query, found ")"`},
		{"SELECT * FROM user x y", `keel: query: 1:22: syntax error: expected JOIN, WHERE, LIMIT or the end of the query, found identifier "y"`},
		{"SELECT * FROM user WHERE name = 'abc", `keel: query: 1:33: unterminated string`},
		{`SELECT * FROM "user`, `keel: query: 1:15: unterminated quoted identifier`},
		{`SELECT * FROM ""`, `keel: query: 1:15: empty quoted identifier`},
		{"SELECT * FROM user WHERE key = X'abc'", `keel: query: 1:32: bytes literal X'abc' is not an even number of hex digits`},
		{"SELECT * FROM user WHERE key = X'zz'", `keel: query: 1:32: bytes literal X'zz' is not an even number of hex digits`},
		{"SELECT * FROM user WHERE id = 12abc", `keel: query: 1:31: malformed number 12a`},
		{"SELECT * FROM user WHERE id = 0x", `keel: query: 1:31: hex literal without digits`},
		{"SELECT * FROM user WHERE id = 1e", `keel: query: 1:31: number 1e has no exponent digits`},
		{"SELECT * FROM user WHERE id = 1.2.3", `keel: query: 1:31: malformed number 1.2.`},
		{"SELECT * FROM user WHERE id = 18446744073709551616", `keel: query: 1:31: integer 18446744073709551616 is out of range`},
		{"SELECT * FROM user WHERE id = -18446744073709551616", `keel: query: 1:31: integer -18446744073709551616 is out of range`},
		{"SELECT * FROM user WHERE score = 1e400", `keel: query: 1:34: number 1e400 is out of range`},
		{"SELECT * FROM user WHERE id = - name", `keel: query: 1:33: syntax error: expected a number after -, found identifier "name"`},
		{"SELECT * FROM user WHERE id = :id", `keel: query: 1:31: unexpected character ':'`},
		{"SELECT * FROM user WHERE id = 1 LIMIT", `keel: query: 1:38: syntax error: expected a row count after LIMIT, found end of query`},
		{"SELECT * FROM user LIMIT -1", `keel: query: 1:26: syntax error: expected a row count after LIMIT, found "-"`},
		{"SELECT * FROM user LIMIT 1 2", `keel: query: 1:28: syntax error: expected the end of the query, found number 2`},
		{"SELECT * FROM user LIMIT 99999999999999999999", `keel: query: 1:26: LIMIT 99999999999999999999 is out of range`},
		{"SELECT * FROM user; x", `keel: query: 1:21: syntax error: expected the end of the query, found identifier "x"`},
		{"SELECT * FROM user JOIN team", `keel: query: 1:29: syntax error: expected ON, found end of query`},
		{"SELECT * FROM user JOIN team ON user.team < team.id", `keel: query: 1:43: a join is on an equality: < is not supported in ON`},
		{"SELECT * FROM user JOIN team ON user.team = 1", `keel: query: 1:45: syntax error: expected a column, found number 1`},
		{"SELECT * FROM user JOIN team ON user.team = team.id AND user.age = 1", `keel: query: 1:53: a join is on one equality; put other conditions in WHERE`},
		{"SELECT * FROM user INNER team", `keel: query: 1:26: syntax error: expected JOIN, found identifier "team"`},
		{"SELECT u. FROM user u", `keel: query: 1:11: syntax error: expected a column name, found keyword FROM (quote it as "from" to use it as a name)`},
		{"SELECT a, u.* FROM user u", `keel: query: 1:13: syntax error: expected a column name, found "*"`},
		{"SELECT COUNT(id) FROM user", `keel: query: 1:14: syntax error: expected "*", found identifier "id"`},
		{"SELECT * FROM user WHERE\n  name = 'x' AND\n  age ! 3", `keel: query: 3:7: unexpected character '!'`},
		{"SELECT * FROM user\nWHERE id = 1 AND", `keel: query: 2:17: syntax error: expected a column or a value, found end of query`},
	}
	for _, c := range cases {
		_, err := parse(c.in)
		if err == nil {
			t.Errorf("parse(%q): no error", c.in)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("parse(%q):\n got %s\nwant %s", c.in, err, c.want)
		}
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("parse(%q): %T is not an *Error", c.in, err)
		}
	}
}
