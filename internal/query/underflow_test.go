package query

import (
	"errors"
	"testing"

	"github.com/keeldb/keel/codec"
)

// TestFloatLiteralUnderflow: a float literal too small for a float64 is
// out of range, as one too large is; rounded to 0 it would make
// d < 1e-400 false for a row holding 0. Zero itself, written any way, is
// a literal like another. A float32 column compares a literal too small
// or too large for float32 exactly in a range, and refuses it in = and
// != (out of range beyond float32's largest value).
func TestFloatLiteralUnderflow(t *testing.T) {
	cat := Tables{userTable, &Table{Name: "m", Public: true, Columns: []Column{{"f", codec.KindFloat32}}}}
	cases := []struct{ in, err string }{
		{"SELECT * FROM user WHERE score < 1e-400", `keel: query: 1:34: number 1e-400 is out of range`},
		{"SELECT * FROM user WHERE score > -1e-400", `keel: query: 1:34: number -1e-400 is out of range`},
		{"SELECT * FROM user WHERE score != 0.00001e-320", `keel: query: 1:35: number 0.00001e-320 is out of range`},
		{"SELECT * FROM user WHERE score > -1e400", `keel: query: 1:34: number -1e400 is out of range`},
		{"SELECT * FROM user WHERE score < 5e-324", ""},
		{"SELECT * FROM user WHERE score = 0.0e-400", ""},
		{"SELECT * FROM user WHERE score = -0.0", ""},
		{"SELECT * FROM user WHERE score = .0", ""},
		{"SELECT * FROM user WHERE score = 0e5", ""},
		{"SELECT * FROM m WHERE f < 1e-50", ""},
		{"SELECT * FROM m WHERE -1e-50 < f", ""},
		{"SELECT * FROM m WHERE f = 1e-50", `keel: query: 1:27: float 1e-50 has no exact float32 value for column f: the nearest are 0 and 1.401298464324817e-45`},
		{"SELECT * FROM m WHERE f != -1e-50", `keel: query: 1:28: float -1e-50 has no exact float32 value for column f: the nearest are -1.401298464324817e-45 and -0`},
		{"SELECT * FROM m WHERE f = 1e39", `keel: query: 1:27: 1e+39 is out of range for float32 column f`},
		{"SELECT * FROM m WHERE f <> -3.4028235e38", `keel: query: 1:28: -3.4028235e+38 is out of range for float32 column f`},
		{"SELECT * FROM m WHERE f = 3.4028234663852886e38", ""},
		{"SELECT * FROM m WHERE f > 1e39 OR f < -1e300", ""},
		{"SELECT * FROM m WHERE f < 1e-45", ""},
		{"SELECT * FROM m WHERE f = -0.0", ""},
		{"SELECT * FROM m WHERE f = 0.0", ""},
	}
	for _, c := range cases {
		_, err := Compile(cat, c.in, Options{})
		var qe *Error
		switch {
		case c.err == "" && err != nil:
			t.Errorf("Compile(%q): %v", c.in, err)
		case c.err != "" && (!errors.As(err, &qe) || err.Error() != c.err):
			t.Errorf("Compile(%q): %v, want %s", c.in, err, c.err)
		}
	}
}
