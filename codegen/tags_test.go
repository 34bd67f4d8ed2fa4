package codegen

import (
	"strings"
	"testing"
)

func TestParseTag(t *testing.T) {
	o, err := parseTag("ID", "pk, autoinc(start=5,min=1,max=10,increment=-1,nocycle,batch=8,advance),index=by_x,name=ident")
	if err != nil {
		t.Fatal(err)
	}
	a := o.autoinc
	if !o.pk || a == nil || a.start.Int64() != 5 || a.min.Int64() != 1 || a.max.Int64() != 10 ||
		a.increment.Int64() != -1 || a.batch.Int64() != 8 || !a.noCycle || !a.advance ||
		len(o.index) != 1 || o.index[0] != "by_x" || o.name != "ident" {
		t.Fatalf("parsed %+v, autoinc %+v", o, a)
	}
	if o, err := parseTag("X", "-"); err != nil || !o.skip {
		t.Fatalf("- = %+v, %v", o, err)
	}
	if o, err := parseTag("X", "autoinc(max=0x7f, start=-0b1)"); err != nil || o.autoinc.max.Int64() != 127 || o.autoinc.start.Int64() != -1 {
		t.Fatalf("literals = %+v, %v", o, err)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"ID": "id", "InvoiceNumber": "invoice_number", "HTTPServer": "http_server", "UserID": "user_id", "A1B": "a1_b"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"ID": "id", "UserID": "userID", "HTTPServer": "httpServer", "Shop": "shop", "X": "x"} {
		if got := lowerName(in); got != want {
			t.Errorf("lowerName(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"by_shop_status": "ByShopStatus", "pk": "PK", "id": "ID", "user_id": "UserID"} {
		if got := camel(in); got != want {
			t.Errorf("camel(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzParseTag checks that the tag parser never panics and that every
// error is a sentence naming the field.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"", "-", "pk", "pk,autoinc", "unique=x,index", "autoinc(start=1,max=9,increment=-2,nocycle)",
		"autoinc(", "autoinc())", "name=a", "index=,", "autoinc(batch=18446744073709551616)"} {
		f.Add(s)
	}
	// A field name no seed holds, so that an error which only quotes the
	// tag back is not taken for one that names the field.
	const field = "QzFieldName"
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, field) {
			t.Skip()
		}
		o, err := parseTag(field, s)
		if err != nil {
			if !strings.Contains(err.Error(), "field "+field) {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if o == nil {
			t.Fatal("nil options without an error")
		}
	})
}

func TestParseTagDefault(t *testing.T) {
	for tag, want := range map[string]string{
		`default=draft`:                "draft",
		`index,default="a, b",pk`:      `"a, b"`,
		`default="say \"hi\", ok"`:     `"say \"hi\", ok"`,
		`default=`:                     "",
		`default=2024-01-02T03:04:05Z`: "2024-01-02T03:04:05Z",
	} {
		o, err := parseTag("F", tag)
		if err != nil || o.def == nil || *o.def != want {
			t.Errorf("parseTag(%s) = %+v, %v; want default %q", tag, o, err, want)
		}
	}
	if _, err := parseTag("F", `default="a,b`); err == nil || !strings.Contains(err.Error(), `unclosed "`) {
		t.Errorf("an unclosed quote: %v", err)
	}
	if _, err := parseTag("F", `default=1,default=2`); err == nil || !strings.Contains(err.Error(), "repeats default") {
		t.Errorf("default twice: %v", err)
	}
}

// TestParseTagRefusals checks tags that must be refused with the reason,
// not taken in part or reported as something else.
func TestParseTagRefusals(t *testing.T) {
	for tag, want := range map[string]string{
		// The second name would silently replace the first.
		"pk,name=a,name=b":              "db tag of field F repeats name; write it once",
		"schedule_at,schedule_at":       "db tag of field F repeats schedule_at; write it once",
		"schedule_every,schedule_every": "db tag of field F repeats schedule_every; write it once",
		// autoinc takes parameters in parentheses, not a value.
		"autoinc=5": `unknown option "autoinc=5" in the db tag of field F; ` + tagHelp,
	} {
		o, err := parseTag("F", tag)
		if err == nil || err.Error() != want {
			t.Errorf("parseTag(%s) = %+v, %v; want the error %q", tag, o, err, want)
		}
	}
}

// TestDBTag checks that a struct tag whose db part cannot be read is an
// error rather than a field without options.
func TestDBTag(t *testing.T) {
	for tag, want := range map[string]string{
		``:                         "",
		`db:"pk"`:                  "pk",
		`json:"x" db:"pk,autoinc"`: "pk,autoinc",
		`json:"a, db:x"`:           "", // db only inside another key's value
		`json:"x"`:                 "",
	} {
		if got, err := dbTag("F", tag); err != nil || got != want {
			t.Errorf("dbTag(%s) = %q, %v; want %q", tag, got, err, want)
		}
	}
	for _, tag := range []string{`db: "pk"`, `db :"pk"`, `json:"x",db:"pk"`, `json: "x" db:"pk"`, `db:pk`} {
		got, err := dbTag("F", tag)
		if err == nil || !strings.Contains(err.Error(), "struct tag of field F mentions db but is not a list of key:\"value\" pairs") {
			t.Errorf("dbTag(%s) = %q, %v; want an error", tag, got, err)
		}
	}
}
