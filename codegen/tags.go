package codegen

import (
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// tagOpts is a parsed db tag.
type tagOpts struct {
	skip    bool
	pk      bool
	unique  []string // "" is the column's own index
	index   []string
	autoinc *autoincOpts
	name    string
	hash    bool // the pk or the column's own unique index is a hash index
	// schedAt and schedEvery mark a schedule table's time and interval.
	schedAt, schedEvery bool
	// def is the default=VALUE option as written (see migrate.go).
	def *string
}

// autoincOpts are the parameters inside autoinc(...), as written.
type autoincOpts struct {
	start, min, max *big.Int
	increment       *big.Int
	batch           *big.Int
	noCycle         bool
	advance         bool
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

const tagHelp = "the options are pk, unique, unique=NAME, index, index=NAME, hash, autoinc, autoinc(PARAMS), name=NAME, default=VALUE, schedule_at, schedule_every and -"

// parseTag parses the value of a db tag. The error is a sentence that says
// what is wrong and how to fix it.
func parseTag(field, s string) (*tagOpts, error) {
	t := &tagOpts{}
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	if strings.TrimSpace(s) == "-" {
		t.skip = true
		return t, nil
	}
	opts, err := splitTop(s)
	if err != nil {
		return nil, fmt.Errorf("db tag of field %s: %w", field, err)
	}
	for _, o := range opts {
		o = strings.TrimSpace(o)
		key, val, hasVal := strings.Cut(o, "=")
		isAutoinc := strings.HasPrefix(o, "autoinc(") || o == "autoinc"
		if isAutoinc {
			key, hasVal = "autoinc", false
		}
		switch {
		case o == "":
			return nil, fmt.Errorf("db tag of field %s has an empty option; remove the extra comma", field)
		case o == "-":
			return nil, fmt.Errorf("db tag of field %s combines - with other options; use db:\"-\" alone to leave the field out of the table", field)
		case key == "pk" && !hasVal:
			if t.pk {
				return nil, fmt.Errorf("db tag of field %s repeats pk; write it once", field)
			}
			t.pk = true
		case key == "unique" || key == "index":
			name := ""
			if hasVal {
				if !identRE.MatchString(val) {
					return nil, fmt.Errorf("db tag of field %s: index name %q is not an identifier; use letters, digits and underscores, e.g. %s=by_author", field, val, key)
				}
				name = val
			}
			list := &t.index
			if key == "unique" {
				list = &t.unique
			}
			if name == "" && slices.Contains(*list, "") { // a named index twice is the table's to report
				return nil, fmt.Errorf("db tag of field %s repeats %s; write it once", field, key)
			}
			*list = append(*list, name)
		case isAutoinc:
			if t.autoinc != nil {
				return nil, fmt.Errorf("db tag of field %s repeats autoinc; write it once", field)
			}
			a, err := parseAutoinc(field, o)
			if err != nil {
				return nil, err
			}
			t.autoinc = a
		case key == "schedule_at" && !hasVal:
			if t.schedAt {
				return nil, fmt.Errorf("db tag of field %s repeats schedule_at; write it once", field)
			}
			t.schedAt = true
		case key == "schedule_every" && !hasVal:
			if t.schedEvery {
				return nil, fmt.Errorf("db tag of field %s repeats schedule_every; write it once", field)
			}
			t.schedEvery = true
		case key == "hash" && !hasVal:
			if t.hash {
				return nil, fmt.Errorf("db tag of field %s repeats hash; write it once", field)
			}
			t.hash = true
		case key == "default" && hasVal:
			if t.def != nil {
				return nil, fmt.Errorf("db tag of field %s repeats default; write it once", field)
			}
			v := strings.TrimSpace(val)
			t.def = &v
		case key == "name" && hasVal:
			if t.name != "" {
				return nil, fmt.Errorf("db tag of field %s repeats name; write it once", field)
			}
			if !identRE.MatchString(val) {
				return nil, fmt.Errorf("db tag of field %s: column name %q is not an identifier; use letters, digits and underscores, e.g. name=author_id", field, val)
			}
			t.name = val
		default:
			return nil, fmt.Errorf("unknown option %q in the db tag of field %s; %s", o, field, tagHelp)
		}
	}
	if t.hash && !t.pk && !slices.Contains(t.unique, "") {
		return nil, fmt.Errorf("db tag of field %s has hash without pk or unique; hash makes the primary key or the column's unique index a hash index (point lookups only): write pk,hash or unique,hash", field)
	}
	return t, nil
}

// splitTop splits s at commas outside parentheses and double quotes
// (default="a, b").
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start, quoted := 0, 0, false
	for i, c := range s {
		switch {
		case quoted:
			if c == '"' && !escaped(s, i) {
				quoted = false
			}
			continue
		case c == '"':
			quoted = true
			continue
		}
		switch c {
		case '(':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("nested parentheses at offset %d; autoinc(...) takes plain name=value parameters", i)
			}
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at offset %d; close each autoinc( with one )", i)
			}
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed ( in %q; close autoinc( with )", s)
	}
	if quoted {
		return nil, fmt.Errorf("unclosed \" in %q; close a quoted default with \"", s)
	}
	return append(out, s[start:]), nil
}

// escaped reports whether the byte at i is escaped by an odd number of
// backslashes.
func escaped(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

const autoincHelp = "the parameters are start=N, min=N, max=N, increment=N, batch=N, nocycle and advance"

func parseAutoinc(field, o string) (*autoincOpts, error) {
	a := &autoincOpts{}
	if o == "autoinc" {
		return a, nil
	}
	if !strings.HasSuffix(o, ")") {
		return nil, fmt.Errorf("db tag of field %s: %q has text after its closing parenthesis; write autoinc(PARAMS) as one option", field, o)
	}
	body := strings.TrimSuffix(strings.TrimPrefix(o, "autoinc("), ")")
	if strings.TrimSpace(body) == "" {
		return a, nil
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(body, ",") {
		p = strings.TrimSpace(p)
		key, val, hasVal := strings.Cut(p, "=")
		key = strings.TrimSpace(key)
		if seen[key] {
			return nil, fmt.Errorf("db tag of field %s: autoinc parameter %s is given twice; keep one", field, key)
		}
		seen[key] = true
		switch key {
		case "nocycle", "advance":
			if hasVal {
				return nil, fmt.Errorf("db tag of field %s: autoinc parameter %s takes no value; write %s alone", field, key, key)
			}
			if key == "nocycle" {
				a.noCycle = true
			} else {
				a.advance = true
			}
		case "start", "min", "max", "increment", "batch":
			if !hasVal {
				return nil, fmt.Errorf("db tag of field %s: autoinc parameter %s needs a value; write %s=N", field, key, key)
			}
			n, ok := parseInt(strings.TrimSpace(val))
			if !ok {
				return nil, fmt.Errorf("db tag of field %s: autoinc %s=%s is not an integer; write a decimal or 0x hexadecimal integer", field, key, val)
			}
			switch key {
			case "start":
				a.start = n
			case "min":
				a.min = n
			case "max":
				a.max = n
			case "increment":
				a.increment = n
			case "batch":
				a.batch = n
			}
		default:
			return nil, fmt.Errorf("db tag of field %s: unknown autoinc parameter %q; %s", field, p, autoincHelp)
		}
	}
	return a, nil
}

// parseInt reads a Go integer literal with an optional sign.
func parseInt(s string) (*big.Int, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 0)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

// parseMarker parses the options after //keel:table or //keel:reducer.
func parseMarker(kind, rest string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch {
		case kind == "table" && k == "name":
			if !identRE.MatchString(v) {
				return nil, fmt.Errorf("table name %q is not an identifier; use letters, digits and underscores, e.g. //keel:table name=post", v)
			}
		case kind == "table" && k == "schedule":
			if !identRE.MatchString(v) {
				return nil, fmt.Errorf("schedule %q is not a reducer's name; write //keel:table schedule=SendReminder", v)
			}
		case kind == "table" && f == "public":
		case kind == "reducer" && (f == "init" || f == "connect" || f == "disconnect"):
			if len(out) > 0 {
				return nil, fmt.Errorf("//keel:reducer takes one of init, connect and disconnect, not several; keep one")
			}
		case kind == "table":
			return nil, fmt.Errorf("unknown option %q on //keel:table; the options are name=NAME, schedule=REDUCER and public", f)
		default:
			return nil, fmt.Errorf("unknown option %q on //keel:reducer; the options are init, connect and disconnect", f)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("option %s is given twice on //keel:%s; keep one", k, kind)
		}
		out[k] = v
	}
	return out, nil
}

var dbKeyRE = regexp.MustCompile(`(^|[\s,;])db\s*:`)

// dbTag returns the db part of a field's struct tag. A tag that is not a
// list of key:"value" pairs but mentions db is an error: the db part could
// not be read (db: "pk", json:"x",db:"pk"), and the field would silently
// lose its options.
func dbTag(field, tag string) (string, error) {
	if v, ok := reflect.StructTag(tag).Lookup("db"); ok {
		if n := countKey(tag, "db"); n > 1 {
			return "", fmt.Errorf("the struct tag of field %s has %d db keys, and only the first (db:%q) would be read, losing the others' options; merge them into one db:\"...\" with their options separated by commas", field, n, v)
		}
		return v, nil
	}
	if !wellFormedTag(tag) && dbKeyRE.MatchString(tag) {
		return "", fmt.Errorf("the struct tag of field %s mentions db but is not a list of key:\"value\" pairs, so its db options cannot be read; write db:\"...\" with no space after the colon, and spaces between pairs", field)
	}
	return "", nil
}

var tagKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// wellFormedTag reports whether tag is a space-separated list of
// key:"value" pairs, as reflect.StructTag reads them, with keys that are
// names (not ",db", which reflect would take for a key).
func wellFormedTag(tag string) bool {
	_, ok := tagKeys(tag)
	return ok
}

// countKey returns how many times key is a key of the well-formed tag.
func countKey(tag, key string) int {
	keys, _ := tagKeys(tag)
	n := 0
	for _, k := range keys {
		if k == key {
			n++
		}
	}
	return n
}

// tagKeys returns the keys of tag's key:"value" pairs, as wellFormedTag
// reads them, and whether the whole tag is such pairs.
func tagKeys(tag string) (keys []string, ok bool) {
	for {
		tag = strings.TrimLeft(tag, " ")
		if tag == "" {
			return keys, true
		}
		i := 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if !tagKeyRE.MatchString(tag[:i]) || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			return keys, false
		}
		keys = append(keys, tag[:i])
		tag = tag[i+1:]
		i = 1
		for i < len(tag) && tag[i] != '"' {
			if tag[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(tag) {
			return keys, false
		}
		if _, err := strconv.Unquote(tag[:i+1]); err != nil {
			return keys, false
		}
		tag = tag[i+1:]
	}
}
