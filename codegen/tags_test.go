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
