package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

func TestJSONBasics(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	ic := c.expect("InitialConnection")
	if ic.str("identity") == "" || ic.str("token") == "" || ic.str("module") != "srvmod" {
		t.Fatalf("InitialConnection %s", ic.raw)
	}
	if strings.Contains(string(ic.raw), `"secret"`) || !strings.Contains(string(ic.raw), `"AddPlayer"`) || strings.Contains(string(ic.raw), `"Connected"`) {
		t.Fatalf("InitialConnection lists private tables or lifecycle reducers, or misses reducers: %s", ic.raw)
	}
	c.send(`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":7,"name":"red","grp":1}}}`)
	r := c.expect("ReducerResult")
	if string(r.body["ok"]) != "true" || string(r.body["result"]) != "null" {
		t.Fatalf("%s", r.raw)
	}
	c.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}}`)
	sa := c.expect("SubscribeApplied")
	if !strings.Contains(string(sa.raw), `{"table":"team","rows":[{"id":7,"name":"red","grp":1}]}`) {
		t.Fatalf("%s", sa.raw)
	}
	// Several messages in one frame; responses in request order; the
	// update of a call's commit before its result.
	c.send(`[{"CallReducer":{"request_id":3,"reducer":"AddTeam","args":[8,"blue",2]}},
		{"CallReducer":{"request_id":4,"reducer":"MoveTeam","args":{"id":7,"grp":5}}},
		{"OneOffQuery":{"request_id":5,"query":"SELECT name, grp FROM team WHERE grp > 1"}}]`)
	// The TransactionUpdate of a call's commit comes before its result;
	// results keep request order.
	var order []string
	for len(order) < 4 {
		m := c.next()
		switch {
		case m.typ == "TransactionUpdate" && m.str("reducer") == "AddTeam":
			if !strings.Contains(string(m.raw), `"inserts":[{"id":8,"name":"blue","grp":2}]`) {
				t.Fatalf("%s", m.raw)
			}
			order = append(order, "tu3")
		case m.typ == "TransactionUpdate" && m.str("reducer") == "MoveTeam":
			if !strings.Contains(string(m.raw), `"deletes":[{"id":7,"name":"red","grp":1}],"inserts":[{"id":7,"name":"red","grp":5}]`) {
				t.Fatalf("an update is a delete and an insert: %s", m.raw)
			}
			order = append(order, "tu4")
		case m.typ == "ReducerResult":
			order = append(order, "rr"+strings.TrimSuffix(string(m.body["request_id"]), ".0"))
		default:
			t.Fatalf("unexpected %s %s", m.typ, m.raw)
		}
	}
	pos := map[string]int{}
	for i, o := range order {
		pos[o] = i
	}
	if pos["tu3"] > pos["rr3"] || pos["tu4"] > pos["rr4"] || pos["rr3"] > pos["rr4"] {
		t.Fatalf("order %v", order)
	}
	oq := c.expect("OneOffQueryResult")
	if !strings.Contains(string(oq.raw), `"rows":[{"name":"blue","grp":2},{"name":"red","grp":5}]`) &&
		!strings.Contains(string(oq.raw), `"rows":[{"name":"red","grp":5},{"name":"blue","grp":2}]`) {
		t.Fatalf("%s", oq.raw)
	}
	// Rows and results as JSON: 64-bit integers beyond 2^53 as strings.
	c.send(`{"CallReducer":{"request_id":6,"reducer":"AddPlayer","args":{"p":{"id":0,"name":"ada","team":7,"score":-3,"big":"18446744073709551615","active":true,"ratio":0.5,"key":"AQI=","at":"2026-01-02T03:04:05Z","tags":["a","b"]}}}}`)
	r = c.expect("ReducerResult")
	if !strings.Contains(string(r.raw), `"big":"18446744073709551615"`) || !strings.Contains(string(r.raw), `"id":1,`) || !strings.Contains(string(r.raw), `"tags":["a","b"]`) {
		t.Fatalf("%s", r.raw)
	}
	// Unsubscribe: no more updates for the set.
	c.send(`{"Unsubscribe":{"request_id":7,"query_set_id":1}}`)
	if m := c.expect("UnsubscribeApplied"); m.num("query_set_id") != 1 {
		t.Fatalf("%s", m.raw)
	}
	c.send(`{"CallReducer":{"request_id":8,"reducer":"AddTeam","args":[9,"green",2]}}`)
	if r := c.expect("ReducerResult"); r.num("request_id") != 8 {
		t.Fatalf("an update after Unsubscribe, or %s", r.raw)
	}
}

// TestJSONErrors: each bad request is an error for that request alone,
// and the connection goes on.
func TestJSONErrors(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	other := f.dialJSON(t, "")
	other.expect("InitialConnection")
	cases := []struct {
		frame, typ, want string
	}{
		{`{"CallReducer":`, "Error", "malformed message 0"},
		{`[{"CallReducer":{}}`, "Error", "malformed JSON frame"},
		{`[{"Hello":{}}]`, "Error", `unknown message type "Hello"`},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","bogus":1}}`, "Error", "unknown field"},
		{`{"CallReducer":{"request_id":1,"reducer":"Nope","args":{}}}`, "ReducerResult", `no reducer "Nope"`},
		{`{"CallReducer":{"request_id":1,"reducer":"Connected","args":{}}}`, "ReducerResult", "clients cannot call it"},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":1}}}`, "ReducerResult", "needs argument name (string)"},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":1,"name":"x","grp":1,"extra":2}}}`, "ReducerResult", `no parameter "extra"`},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":4,"name":"x","grp":1,"id":5}}}`, "ReducerResult", `key "id" appears twice`},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":-1,"name":"x","grp":1}}}`, "ReducerResult", "is not a uint32"},
		{`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":[1,"x"]}}`, "ReducerResult", "takes 3 arguments"},
		{`{"CallReducer":{"request_id":1,"reducer":"Fail","args":{"why":"on purpose"}}}`, "ReducerResult", "on purpose"},
		{`{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM team WHERE nmae = 1"]}}`, "SubscriptionError", `unknown column "nmae"`},
		{`{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM secret"]}}`, "SubscriptionError", "private"},
		{`{"Subscribe":{"request_id":1,"query_set_id":1,"queries":[]}}`, "SubscriptionError", "at least one query"},
		{`{"Unsubscribe":{"request_id":1,"query_set_id":42}}`, "SubscriptionError", "no query set 42"},
		{`{"OneOffQuery":{"request_id":1,"query":"SELECT FROM"}}`, "OneOffQueryResult", "1:8"},
		{`{"OneOffQuery":{"request_id":1,"query":"SELECT note FROM secret"}}`, "OneOffQueryResult", "private"},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		m := c.expect(tc.typ)
		if !strings.Contains(m.str("error"), tc.want) {
			t.Errorf("%s: %s %s, want an error with %q", tc.frame, m.typ, m.raw, tc.want)
		}
	}
	// A query error carries its position.
	c.send(`{"Subscribe":{"request_id":9,"query_set_id":3,"queries":["SELECT * FROM team","SELECT * FROM team WHERE grp = 'x'"]}}`)
	m := c.expect("SubscriptionError")
	if m.num("query") != 1 || m.num("line") != 1 || m.num("column") != 32 {
		t.Errorf("the error of the second query: %s", m.raw)
	}
	// A binary frame on a JSON connection.
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	c.expect("Error")
	// Both connections still work.
	for _, cl := range []*jclient{c, other} {
		cl.send(`{"OneOffQuery":{"request_id":77,"query":"SELECT COUNT(*) FROM team"}}`)
		if m := cl.expect("OneOffQueryResult"); !strings.Contains(string(m.raw), `"rows":[{"count":0}]`) {
			t.Fatalf("%s", m.raw)
		}
	}
}

// TestOversized: a frame beyond MaxMessageBytes closes that connection
// with 1009; others go on.
func TestOversized(t *testing.T) {
	f := newFixture(t, false, server.Options{MaxMessageBytes: 1024})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	other := f.dialJSON(t, "")
	other.expect("InitialConnection")
	c.send(`{"OneOffQuery":{"request_id":1,"query":"` + strings.Repeat(" ", 2000) + `SELECT * FROM team"}}`)
	_, err := c.tryNext(5 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("after an oversized frame: %v, want close status 1009", err)
	}
	other.send(`{"OneOffQuery":{"request_id":1,"query":"SELECT * FROM team"}}`)
	other.expect("OneOffQueryResult")
}

// TestBinary: every message of the binary encoding, through the Go
// client and raw frames.
func TestBinary(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	ctx := context.Background()
	r, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil { // CallReducer, ReducerResult
		t.Fatal(err)
	}
	s, err := r.DB.Team.Subscribe(ctx, "grp = 1") // Subscribe, SubscribeApplied
	if err != nil || r.DB.Team.Count() != 1 {
		t.Fatalf("subscribe: %v, %d rows", err, r.DB.Team.Count())
	}
	if err := r.AddTeam(ctx, 2, "blue", 1); err != nil || r.DB.Team.Count() != 2 { // TransactionUpdate
		t.Fatalf("%v, %d rows", err, r.DB.Team.Count())
	}
	_, err = r.Subscribe(ctx, "SELECT * FROM secret") // SubscriptionError
	var re *client.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "private") {
		t.Fatalf("a private table: %v", err)
	}
	_, err = r.Subscribe(ctx, "SELECT * FROM team WHERE grp = 'x'")
	if !errors.As(err, &re) || re.Line != 1 || re.Column != 32 {
		t.Fatalf("an error with its position: %#v", err)
	}
	if err := s.Unsubscribe(ctx); err != nil || r.DB.Team.Count() != 0 { // Unsubscribe, UnsubscribeApplied
		t.Fatalf("unsubscribe: %v, %d rows", err, r.DB.Team.Count())
	}
	res, err := r.Query(ctx, "SELECT name FROM team WHERE id = 2") // OneOffQuery, OneOffQueryResult
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0].Text() != "blue" {
		t.Fatalf("query: %+v %v", res, err)
	}
	if _, err := r.Query(ctx, "SELECT FROM"); !errors.As(err, &re) || re.Column != 8 {
		t.Fatalf("a one-off query error: %v", err)
	}
	// Raw frames: InitialConnection, Error, and arguments that do not
	// decode.
	ws, _, err := websocket.Dial(ctx, f.url, &websocket.DialOptions{Subprotocols: []string{server.ProtocolBinary}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func() (byte, *codec.Reader) {
		typ, b, err := ws.Read(ctx)
		if err != nil || typ != websocket.MessageBinary {
			t.Fatalf("read: %v %v", typ, err)
		}
		d := codec.NewReader(b)
		m := d.Bytes(true)
		return m[0], codec.NewReader(m[1:])
	}
	if tag, d := read(); tag != 1 || d.Text() == "" {
		t.Fatalf("first message tag %d", tag)
	}
	ws.Write(ctx, websocket.MessageBinary, []byte{5, 99, 1, 2, 3, 4})
	if tag, d := read(); tag != 8 || d.Uvarint() != 0 || !strings.Contains(d.Text(), "unknown tag 99") {
		t.Fatalf("a bad tag: tag %d", tag)
	}
	msg := []byte{16}
	msg = codec.AppendUvarint(msg, 5)
	msg = codec.AppendString(msg, "AddTeam")
	msg = codec.AppendBytes(msg, []byte{1}) // too short
	ws.Write(ctx, websocket.MessageBinary, codec.AppendBytes(nil, msg))
	if tag, d := read(); tag != 5 || d.Uvarint() != 5 || d.Bool() || !strings.Contains(d.Text(), "AddTeam") {
		t.Fatalf("bad arguments: tag %d", tag)
	}
}

// TestTokens: a token keeps its identity; a token of a trusted external
// issuer gives that issuer's identity; bad, foreign and expired tokens
// close the connection with 4001.
func TestTokens(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := newFixture(t, false, server.Options{TokenTTL: time.Hour, Clock: clock,
		Issuers: []server.Issuer{{Name: "https://idp.test", Keys: []crypto.PublicKey{&key.PublicKey}, Audience: "chat"}}})
	c := f.dialJSON(t, "")
	ic := c.expect("InitialConnection")
	token, id := ic.str("token"), ic.str("identity")
	c2 := f.dialJSON(t, token)
	if ic2 := c2.expect("InitialConnection"); ic2.str("identity") != id {
		t.Fatalf("identity %q with the token, want %q", ic2.str("identity"), id)
	}
	c2.send(`{"CallReducer":{"request_id":1,"reducer":"WhoAmI","args":{}}}`)
	if r := c2.expect("ReducerResult"); r.str("result") != id {
		t.Fatalf("the reducer sees %s, want %q", r.raw, id)
	}
	sign := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ext := sign(jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "aud": "chat", "exp": now.Add(time.Minute).Unix()})
	c3 := f.dialJSON(t, ext)
	if ic3 := c3.expect("InitialConnection"); ic3.str("identity") != string(server.IdentityOf("https://idp.test", "alice")) {
		t.Fatalf("external identity %s", ic3.raw)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "aud": "chat"}).SignedString(other)
	bad := map[string]string{
		"garbage":         "not-a-token",
		"forged":          forged,
		"wrong audience":  sign(jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "aud": "other"}),
		"unknown issuer":  sign(jwt.MapClaims{"iss": "https://evil.test", "sub": "alice"}),
		"expired":         sign(jwt.MapClaims{"iss": "https://idp.test", "sub": "alice", "aud": "chat", "exp": now.Add(-time.Minute).Unix()}),
		"tampered (this)": tamper(token),
	}
	for name, tok := range bad {
		c := f.dialJSON(t, tok)
		_, err := c.tryNext(5 * time.Second)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != server.StatusInvalidToken || !strings.Contains(ce.Reason, "invalid token") {
			t.Errorf("%s: %v, want close 4001", name, err)
		}
	}
	// This server's own token expires after TokenTTL.
	now = now.Add(2 * time.Hour)
	c4 := f.dialJSON(t, token)
	if _, err := c4.tryNext(5 * time.Second); websocket.CloseStatus(err) != server.StatusInvalidToken {
		t.Fatalf("an expired token: %v", err)
	}
}

// tamper changes the first character of a token's signature, whose six
// bits are all the signature's (the last character's are partly padding,
// so a change there may decode to the same bytes).
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// TestLifecycleReducers: connect and disconnect run as the client.
func TestLifecycleReducers(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	ctx := context.Background()
	r, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.DB.Online.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	id := string(r.Identity())
	count := func() int32 {
		for o := range r.DB.Online.All() {
			if o.Identity == id {
				return o.Count
			}
		}
		return 0
	}
	if count() != 1 {
		t.Fatalf("online count %d after connecting, want 1", count())
	}
	r2, err := remote.Dial(ctx, f.url, client.Options{Token: r.Token()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return count() == 2 })
	r2.Close()
	waitFor(t, func() bool { return count() == 1 })
}

// TestConnectRefused: a connect reducer that fails closes the connection
// with 4002 and its error, and its transaction leaves nothing behind.
func TestConnectRefused(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	ic := c.expect("InitialConnection")
	token, id := ic.str("token"), ic.str("identity")
	err := f.db.Update(t.Context(), "t", func(c *reducer.Ctx) error {
		_, err := srvmod.DBOf(c.Tx).Banned().Insert(srvmod.Banned{Identity: id})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c2 := f.dialJSON(t, token)
	_, err = c2.tryNext(5 * time.Second)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "connect reducer: banned" {
		t.Fatalf("a banned identity's connection: %v, want close 4002 with the reducer's error", err)
	}
	v, err := f.db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := srvmod.ViewOf(v).Online().Find(id); o.Count != 1 {
		t.Fatalf("online count %d after the refused connection, want the first one's 1", o.Count)
	}
}

// TestJSONWithoutSubprotocol: a client that asks for no subprotocol gets
// the JSON protocol, in text frames.
func TestJSONWithoutSubprotocol(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, f.url, &websocket.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	typ, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]json.RawMessage
	if typ != websocket.MessageText || json.Unmarshal(b, &msgs) != nil || len(msgs) != 1 || msgs[0]["InitialConnection"] == nil {
		t.Fatalf("first frame %v %q, want a JSON InitialConnection", typ, b)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ = json.Valid

// TestOptionsRefused: a TokenKey too short for HS256 (an empty one would
// let anyone sign tokens), a negative TTL or a negative bound fails New
// with ErrOptions, naming the field.
func TestOptionsRefused(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	for field, o := range map[string]server.Options{
		"TokenKey":        {TokenKey: []byte("")},
		"TokenKey ":       {TokenKey: make([]byte, 31)},
		"TokenTTL":        {TokenTTL: -time.Hour},
		"MaxMessageBytes": {MaxMessageBytes: -1},
		"MaxInFlight":     {MaxInFlight: -1},
		"MaxQueueBytes":   {MaxQueueBytes: -1},
	} {
		_, err := server.New(db, o)
		if !errors.Is(err, server.ErrOptions) || !strings.Contains(err.Error(), "Options."+strings.TrimSpace(field)+" ") || strings.Count(err.Error(), "keel: ") != 1 {
			t.Errorf("New with a bad %s: %v", field, err)
		}
	}
	if _, err := server.New(db, server.Options{TokenKey: make([]byte, 32)}); err != nil {
		t.Fatalf("New with a 32-byte key: %v", err)
	}
}

// TestJSONMessageTwoKeys: a JSON message is an object with exactly one
// key; one that names its type twice (two requests in one object, of
// which json.Unmarshal would keep the last) is an Error, not one
// request answered and the other dropped.
func TestJSONMessageTwoKeys(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	c.send(`{"OneOffQuery":{"request_id":1,"query":"SELECT * FROM team"},"OneOffQuery":{"request_id":2,"query":"SELECT * FROM team"}}`)
	if m := c.next(); m.typ != "Error" || !strings.Contains(m.str("error"), "exactly one key") {
		t.Fatalf("got %s %s, want an Error", m.typ, m.raw)
	}
}
