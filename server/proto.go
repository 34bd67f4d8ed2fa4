package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/keeldb/keel/codec"
)

// The subprotocols: the WebSocket subprotocol a client asks for chooses
// the encoding of every message on the connection.
const (
	ProtocolJSON   = "keel.json.v1"
	ProtocolBinary = "keel.bin.v1"
)

// Message tags of the binary encoding.
const (
	tagInitialConnection  = 1
	tagSubscribeApplied   = 2
	tagSubscriptionError  = 3
	tagTransactionUpdate  = 4
	tagReducerResult      = 5
	tagOneOffQueryResult  = 6
	tagUnsubscribeApplied = 7
	tagError              = 8

	tagCallReducer = 16
	tagSubscribe   = 17
	tagUnsubscribe = 18
	tagOneOffQuery = 19
)

// request is one client message, decoded.
type request struct {
	kind     byte // tagCallReducer ...
	id       uint64
	reducer  string
	args     []byte          // binary arguments
	jsonArgs json.RawMessage // JSON arguments
	qsid     uint64
	queries  []string
	query    string
}

// errFrame is a frame that does not decode; its messages are not run.
type errFrame struct{ msg string }

func (e *errFrame) Error() string { return e.msg }

// decodeJSON reads a JSON frame: one message object, or an array of them.
func decodeJSON(b []byte) ([]request, error) {
	b = bytes.TrimSpace(b)
	var raws []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, &errFrame{"malformed JSON frame: " + err.Error()}
		}
	} else {
		raws = []json.RawMessage{b}
	}
	out := make([]request, 0, len(raws))
	for i, raw := range raws {
		var m map[string]json.RawMessage
		err := json.Unmarshal(raw, &m)
		if err == nil && len(m) == 1 {
			if k, twice := repeatedKey(raw); twice {
				err = fmt.Errorf("a message is an object with exactly one key, its type: %q appears twice", k)
			}
		}
		if err != nil || len(m) != 1 {
			if err == nil {
				err = errors.New("a message is an object with exactly one key, its type")
			}
			return nil, &errFrame{fmt.Sprintf("malformed message %d of the frame: %v", i, err)}
		}
		for typ, body := range m {
			var r request
			var err error
			switch typ {
			case "CallReducer":
				var f struct {
					RequestID uint64          `json:"request_id"`
					Reducer   string          `json:"reducer"`
					Args      json.RawMessage `json:"args"`
				}
				err = strictJSON(body, &f)
				r = request{kind: tagCallReducer, id: f.RequestID, reducer: f.Reducer, jsonArgs: f.Args}
			case "Subscribe":
				var f struct {
					RequestID  uint64   `json:"request_id"`
					QuerySetID uint64   `json:"query_set_id"`
					Queries    []string `json:"queries"`
				}
				err = strictJSON(body, &f)
				r = request{kind: tagSubscribe, id: f.RequestID, qsid: f.QuerySetID, queries: f.Queries}
			case "Unsubscribe":
				var f struct {
					RequestID  uint64 `json:"request_id"`
					QuerySetID uint64 `json:"query_set_id"`
				}
				err = strictJSON(body, &f)
				r = request{kind: tagUnsubscribe, id: f.RequestID, qsid: f.QuerySetID}
			case "OneOffQuery":
				var f struct {
					RequestID uint64 `json:"request_id"`
					Query     string `json:"query"`
				}
				err = strictJSON(body, &f)
				r = request{kind: tagOneOffQuery, id: f.RequestID, query: f.Query}
			default:
				return nil, &errFrame{fmt.Sprintf("message %d of the frame: unknown message type %q (the client sends CallReducer, Subscribe, Unsubscribe and OneOffQuery)", i, typ)}
			}
			if err == nil {
				// json.Unmarshal keeps the last of a repeated field:
				// {"query_set_id":1,"query_set_id":2} would pass as 2.
				if k, twice := repeatedKey(body); twice {
					err = fmt.Errorf("field %q appears twice", k)
				}
			}
			if err != nil {
				return nil, &errFrame{fmt.Sprintf("message %d of the frame, %s: %v", i, typ, err)}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// decodeBinary reads a binary frame: messages one after another, each a
// uvarint length and that many bytes, a tag byte first. The requests'
// arguments alias b, which the caller must not reuse until it is done
// with them. It appends to out[:0], and takes a reducer's name from
// names when it is there, so that a connection calling the same
// reducers decodes its frames without allocating; names may be nil.
func decodeBinary(b []byte, out []request, names map[string]string) ([]request, error) {
	out = out[:0]
	fr := codec.NewReader(b)
	for i := 0; fr.Offset() < len(b); i++ {
		msg := fr.Bytes(true)
		if fr.Failed() {
			return nil, &errFrame{fmt.Sprintf("malformed binary frame: message %d: %v", i, fr.Err())}
		}
		if len(msg) == 0 {
			return nil, &errFrame{fmt.Sprintf("malformed binary frame: message %d is empty", i)}
		}
		d := codec.NewReader(msg[1:])
		r := request{kind: msg[0]}
		switch msg[0] {
		case tagCallReducer:
			r.id = d.Uvarint()
			name := d.Bytes(true)
			var ok bool
			if r.reducer, ok = names[string(name)]; !ok {
				r.reducer = string(name)
			}
			r.args = d.Bytes(true)
		case tagSubscribe:
			r.id, r.qsid = d.Uvarint(), d.Uvarint()
			n := d.Count()
			for j := 0; j < n && !d.Failed(); j++ {
				r.queries = append(r.queries, d.Text())
			}
		case tagUnsubscribe:
			r.id, r.qsid = d.Uvarint(), d.Uvarint()
		case tagOneOffQuery:
			r.id, r.query = d.Uvarint(), d.Text()
		default:
			return nil, &errFrame{fmt.Sprintf("malformed binary frame: message %d has unknown tag %d", i, msg[0])}
		}
		if err := d.Err(); err != nil {
			return nil, &errFrame{fmt.Sprintf("malformed binary frame: message %d (tag %d): %v", i, msg[0], err)}
		}
		out = append(out, r)
	}
	return out, nil
}

// enc builds server messages in one encoding.
type enc struct{ json bool }

// start opens a message of the given type.
func (e enc) start(dst []byte, typ string, tag byte) []byte {
	if e.json {
		return append(append(append(dst, `{"`...), typ...), `":{`...)
	}
	return append(dst, tag)
}

func (e enc) end(dst []byte) []byte {
	if e.json {
		return append(dst, "}}"...)
	}
	return dst
}

// key writes a JSON key (with its comma when not first); nothing in
// binary.
func (e enc) key(dst []byte, k string, first bool) []byte {
	if !e.json {
		return dst
	}
	if !first {
		dst = append(dst, ',')
	}
	return append(append(append(dst, '"'), k...), `":`...)
}

func (e enc) uint(dst []byte, k string, first bool, v uint64) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return codec.AppendJSON(dst, codec.Uint64Value(v))
	}
	return codec.AppendUvarint(dst, v)
}

func (e enc) int(dst []byte, k string, first bool, v int64) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return strconv.AppendInt(dst, v, 10)
	}
	return codec.AppendVarint(dst, v)
}

func (e enc) str(dst []byte, k string, first bool, s string) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return codec.AppendJSON(dst, codec.StringValue(s))
	}
	return codec.AppendString(dst, s)
}

func (e enc) bool(dst []byte, k string, first bool, b bool) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return strconv.AppendBool(dst, b)
	}
	return codec.AppendBool(dst, b)
}

func (e enc) time(dst []byte, k string, first bool, t time.Time) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return codec.AppendJSON(dst, codec.TimeValue(t))
	}
	return codec.AppendTime(dst, t)
}

// list opens and closes a list of n elements.
func (e enc) listStart(dst []byte, k string, first bool, n int) []byte {
	dst = e.key(dst, k, first)
	if e.json {
		return append(dst, '[')
	}
	return codec.AppendUvarint(dst, uint64(n))
}

func (e enc) listSep(dst []byte, i int) []byte {
	if e.json && i > 0 {
		return append(dst, ',')
	}
	return dst
}

func (e enc) listEnd(dst []byte) []byte {
	if e.json {
		return append(dst, ']')
	}
	return dst
}

func (e enc) objStart(dst []byte) []byte {
	if e.json {
		return append(dst, '{')
	}
	return dst
}

func (e enc) objEnd(dst []byte) []byte {
	if e.json {
		return append(dst, '}')
	}
	return dst
}

// errorMsg is the Error message: a frame that did not decode, or a
// request refused before it was read (request_id 0 when unknown).
func (e enc) errorMsg(id uint64, msg string) []byte {
	b := e.start(nil, "Error", tagError)
	b = e.uint(b, "request_id", true, id)
	b = e.str(b, "error", false, msg)
	return e.end(b)
}
