package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
)

// viewSource reads a table.View as a query.Source: rows decoded from
// their encodings with the kinds of the table's columns.
type viewSource struct {
	v *table.View
	s *schema
}

func (src viewSource) decode(t string, row []byte) []codec.Value {
	tm := src.s.byName[t]
	vals, err := codec.DecodeRow(tm.kinds, row, make([]codec.Value, 0, len(tm.kinds)))
	if err != nil {
		// The table's own codec wrote it: a mismatch is a module bug.
		panic(fmt.Sprintf("keel: server: table %s: a stored row does not decode by its column kinds: %v", t, err))
	}
	return vals
}

func (src viewSource) Scan(t string, yield func(row []codec.Value) bool) {
	stop := fmt.Errorf("stop")
	src.v.Rows(t, func(row []byte) error {
		if !yield(src.decode(t, row)) {
			return stop
		}
		return nil
	})
}

func (src viewSource) Seek(t string, index int, lo, hi []codec.Value, loIncl, hiIncl bool, yield func(row []codec.Value) bool) {
	if err := src.v.Seek(t, index, lo, hi, loIncl, hiIncl, func(row []byte) bool { return yield(src.decode(t, row)) }); err != nil {
		panic(fmt.Sprintf("keel: server: %v", err))
	}
}

func splitObject(raw []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("want a JSON object, not null")
	}
	if k, ok := repeatedKey(raw); ok {
		return nil, fmt.Errorf("key %q appears twice in the object", k)
	}
	return m, nil
}

// repeatedKey returns a key the JSON object raw (valid) holds twice:
// json.Unmarshal keeps the last, so "args":{"id":4,"id":5} would pass as 5.
func repeatedKey(raw []byte) (string, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if _, err := d.Token(); err != nil { // {
		return "", false
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return "", false
		}
		k, _ := t.(string)
		if seen[k] {
			return k, true
		}
		seen[k] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

func splitArray(raw []byte) ([]json.RawMessage, error) {
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("want a JSON array: %w", err)
	}
	return a, nil
}
