package query

import (
	"strings"
	"testing"
)

// TestPlan: which index each WHERE uses, shown as Plan.String shows it.
func TestPlan(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT * FROM user", "Scan user"},
		// An equality on a unique index is a point lookup; other
		// conditions filter its rows.
		{"SELECT * FROM user WHERE id = 3", "Seek user.pk: id = 3"},
		{"SELECT * FROM user WHERE age > 1 AND id = 3", "Seek user.pk: id = 3\n  filter: age > 1"},
		// A hash index: equality only.
		{"SELECT * FROM user WHERE name = 'a'", "Seek user.by_name: name = 'a'"},
		{"SELECT * FROM user WHERE name > 'a'", "Scan user\n  filter: name > 'a'"},
		{"SELECT * FROM team WHERE id > 1", "Scan team\n  filter: id > 1"},
		// A multi-column hash index needs all its columns.
		{"SELECT * FROM team WHERE region = 'x' AND level = 1", "Seek team.by_level_region: level = 1 AND region = 'x'"},
		{"SELECT * FROM team WHERE level = 1", "Scan team\n  filter: level = 1"},
		// Ranges on an ordered index, tightened to the narrowest bounds.
		{"SELECT * FROM user WHERE age > 1 AND age <= 5 AND age >= 2 AND age < 9", "Seek user.by_age: age >= 2 AND age <= 5"},
		{"SELECT * FROM user WHERE age >= 2 AND age > 2", "Seek user.by_age: age > 2"},
		{"SELECT * FROM user WHERE 3 > age", "Seek user.by_age: age < 3"},
		{"SELECT * FROM user WHERE NOT age < 3", "Seek user.by_age: age >= 3"},
		{"SELECT * FROM user WHERE age != 3", "Scan user\n  filter: age != 3"},
		// A float literal against a float32 column: a range of the
		// float32 values either side of it, written so that each reads
		// back as itself.
		{"SELECT * FROM num WHERE f > 0.1", "Seek num.by_f_d: f >= 0.10000000149011612"},
		{"SELECT * FROM num WHERE NOT f >= 0.1", "Seek num.by_f_d: f < 0.10000000149011612"},
		{"SELECT * FROM num WHERE f < 0.1", "Seek num.by_f_d: f <= 0.09999999403953552"},
		{"SELECT * FROM num WHERE f > 1e-50", "Seek num.by_f_d: f >= 1.401298464324817e-45"},
		{"SELECT * FROM num WHERE 1e39 > f", "Seek num.by_f_d: f <= 3.4028234663852886e+38"},
		{"SELECT * FROM num WHERE f = 2 AND d < 0.1", "Seek num.by_f_d: f = 2 AND d < 0.1"},
		{"SELECT * FROM num WHERE i = 1 AND f < -1e39", "Seek num.by_i: i = 1\n  filter: f <= -Inf"},
		// A prefix of a multi-column ordered index, with a range on the
		// next column.
		{"SELECT * FROM user WHERE team = 2", "Seek user.by_team_age: team = 2"},
		{"SELECT * FROM user WHERE age = 1 AND team = 2 AND active = TRUE", "Seek user.by_team_age: team = 2 AND age = 1\n  filter: active = TRUE"},
		{"SELECT * FROM user WHERE team = 2 AND age > 1", "Seek user.by_team_age: team = 2 AND age > 1"},
		// An equality beats a range.
		{"SELECT * FROM user WHERE age > 1 AND name = 'x'", "Seek user.by_name: name = 'x'\n  filter: age > 1"},
		// OR of indexable branches: a union; one that is not: a scan.
		{"SELECT * FROM user WHERE id = 1 OR name = 'b'", "Union\n  Seek user.pk: id = 1\n  Seek user.by_name: name = 'b'"},
		{"SELECT * FROM user WHERE id = 1 OR score > 2", "Scan user\n  filter: id = 1 OR score > 2"},
		{"SELECT * FROM user WHERE (id = 1 OR id = 2) AND active = TRUE",
			"Union\n  filter: active = TRUE\n  Seek user.pk: id = 1\n  Seek user.pk: id = 2"},
		{"SELECT * FROM user WHERE NOT (id != 1 AND age < 3)", "Union\n  Seek user.pk: id = 1\n  Seek user.by_age: age >= 3"},
		{"SELECT * FROM user WHERE id = 1 OR (age = 2 AND active = FALSE)",
			"Union\n  Seek user.pk: id = 1\n  Seek user.by_age: age = 2\n    filter: active = FALSE"},
		// Joins: the side with the better access drives; the other is
		// looked up by its join index, or hashed when it has none.
		{"SELECT user.* FROM user JOIN team ON user.team = team.id",
			"Join user.team = team.id\n  outer: Scan user\n  inner: Lookup team.pk"},
		{"SELECT user.* FROM user JOIN team ON user.team = team.id WHERE team.grp = 2 AND user.active = TRUE",
			"Join user.team = team.id\n  outer: Seek team.by_grp: grp = 2\n  inner: Lookup user.by_team_age\n  filter: user.active = TRUE"},
		{"SELECT team.* FROM team JOIN user ON team.id = user.team WHERE user.id = 7",
			"Join team.id = user.team\n  outer: Seek user.pk: id = 7\n  inner: Lookup team.pk"},
		{"SELECT user.* FROM user JOIN team ON user.team = team.id WHERE user.age > 2 OR team.level = 1",
			"Join user.team = team.id\n  outer: Scan user\n  inner: Lookup team.pk\n  filter: user.age > 2 OR team.level = 1"},
		{"SELECT u.* FROM user u JOIN user v ON u.age = v.age WHERE v.name = 'a'",
			"Join u.age = v.age\n  outer: Seek user.by_name: name = 'a'\n  inner: Lookup user.by_age"},
		{"SELECT user.* FROM user JOIN team ON user.score = team.weight WHERE team.level > 1",
			"Join user.score = team.weight\n  outer: Scan user\n  inner: Hash team.weight\n    Scan team\n      filter: team.level > 1"},
		// One-off queries: projection, count, limit.
		{"SELECT name, team.level FROM user JOIN team ON user.team = team.id WHERE user.id = 3 LIMIT 5",
			"Limit 5\n  Project user.name, team.level\n    Join user.team = team.id\n      outer: Seek user.pk: id = 3\n      inner: Lookup team.pk"},
		{"SELECT COUNT(*) FROM user WHERE age = 1", "Count\n  Seek user.by_age: age = 1"},
	}
	for _, c := range cases {
		q, err := Compile(testCatalog, c.in, Options{OneOff: true})
		if err != nil {
			t.Errorf("Compile(%q): %v", c.in, err)
			continue
		}
		if got := q.Plan().String(); got != c.want {
			t.Errorf("%s\n got:\n%s\nwant:\n%s", c.in, indent(got), indent(c.want))
		}
	}
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
