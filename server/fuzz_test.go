package server

import (
	"testing"

	"github.com/keeldb/keel/server/internal/srvmod"
)

// FuzzDecodeJSON: a JSON frame from a client decodes or is an error,
// never a panic, and JSON arguments for every reducer encode or are an
// error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":7,"name":"red","grp":1}}}`,
		`[{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}},{"Unsubscribe":{"request_id":3,"query_set_id":1}}]`,
		`{"OneOffQuery":{"request_id":4,"query":"SELECT COUNT(*) FROM player"}}`,
		`{"CallReducer":{"request_id":1,"reducer":"AddPlayer","args":{"p":{"id":0,"name":"a","team":1,"score":1,"big":"1","active":true,"ratio":1,"key":"","at":"2026-01-01T00:00:00Z","tags":null}}}}`,
		`[`, `{}`, `[1]`,
	} {
		f.Add([]byte(s))
	}
	sch, err := newSchema(srvmod.Module)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		reqs, err := decodeJSON(b)
		if err != nil {
			return
		}
		for _, r := range reqs {
			if r.kind == tagCallReducer {
				if rm, err := sch.reducer(r.reducer); err == nil {
					rm.encodeArgs(r.jsonArgs)
				}
			}
		}
	})
}

// FuzzDecodeBinary: a binary frame decodes or is an error, and a result
// or row of any bytes turns into JSON or an error.
func FuzzDecodeBinary(f *testing.F) {
	f.Add([]byte{5, 19, 1, 1, 'x'})
	f.Add([]byte{9, 16, 1, 7, 'A', 'd', 'd', 'T', 'e', 'a', 'm', 0})
	sch, err := newSchema(srvmod.Module)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeBinary(b, nil, nil)
		for _, r := range sch.order {
			r.resultJSON(nil, b)
		}
	})
}
