package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/query"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
)

// conn is one client connection. Its reader goroutine (serve) decodes
// requests and submits calls; its writer goroutine writes what the
// evaluator queued in out; the evaluator owns the fields marked so.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	enc      enc
	id       uint64
	identity reducer.Identity

	seq      uint64         // next request's number (reader)
	sem      chan struct{}  // calls in flight
	calls    sync.WaitGroup // calls in flight
	out      outbox
	drainReq chan struct{}
	drainOne sync.Once
	frame    sync.Mutex // held while the reader handles a frame

	reqs   []request           // the frame being handled (reader)
	stuck  *time.Timer         // closes the connection when a write takes too long
	notify func(*runtime.Call) // Notify of every call

	// owned by the evaluator
	dirty  bool             // in evaluator.dirty
	next   uint64           // the request whose response goes out next
	ready  map[uint64]*resp // responses waiting for earlier ones
	sets   map[uint64]*qset
	closed bool
}

// resp is the response to one request: a message, or a query set whose
// SubscribeApplied is built when its turn comes.
type resp struct {
	msg []byte
	qs  *qset
}

func newConn(s *Server, ws *websocket.Conn, e enc, id reducer.Identity) *conn {
	c := &conn{s: s, ws: ws, enc: e, id: s.nextID.Add(1), identity: id,
		sem: make(chan struct{}, s.opts.MaxInFlight), drainReq: make(chan struct{}),
		ready: map[uint64]*resp{}, sets: map[uint64]*qset{}}
	c.out.init(s.opts.MaxQueueBytes, func() { go c.writer() })
	c.stuck = time.AfterFunc(time.Hour, func() { ws.CloseNow() })
	c.stuck.Stop()
	c.notify = func(call *runtime.Call) {
		b := call.Body.(*callBody)
		<-c.sem
		c.s.ev.push(event{kind: evResult, c: c, seq: b.seq, body: b})
		c.calls.Done()
	}
	return c
}

// initialConnection is the first message of every connection.
func (s *Server) initialConnection(e enc, c *conn, token string) []byte {
	b := e.start(nil, "InitialConnection", tagInitialConnection)
	b = e.str(b, "identity", true, string(c.identity))
	b = e.str(b, "token", false, token)
	b = e.uint(b, "connection_id", false, c.id)
	if e.json {
		b = append(b, ',')
		b = append(b, s.initJSON...)
	} else {
		b = e.str(b, "", false, s.sch.module)
	}
	return e.end(b)
}

// serve reads requests until the connection closes, then waits for its
// calls in flight and tells the evaluator.
func (c *conn) serve() {
	ctx := context.Background()
	size := 512 // the last frame's size: the next one's first guess
	for {
		typ, data, err := c.read(ctx, size)
		if err != nil {
			if st := websocket.CloseStatus(err); st == -1 && !errors.Is(err, context.Canceled) {
				c.s.log.Debug("keel: server: read", "conn", c.id, "err", err)
			}
			break
		}
		size = max(len(data), 512)
		var reqs []request
		switch {
		case c.enc.json && typ == websocket.MessageText:
			reqs, err = decodeJSON(data)
		case !c.enc.json && typ == websocket.MessageBinary:
			reqs, err = decodeBinary(data, c.reqs, c.s.sch.names)
			c.reqs = reqs
		case c.enc.json:
			err = &errFrame{"a binary frame on a connection that speaks " + ProtocolJSON + ": send text frames of JSON"}
		default:
			err = &errFrame{"a text frame on a connection that speaks " + ProtocolBinary + ": send binary frames"}
		}
		c.frame.Lock()
		if err != nil {
			c.respond(c.enc.errorMsg(0, err.Error()))
			c.frame.Unlock()
			continue
		}
		for i := range reqs {
			c.handle(&reqs[i])
		}
		c.frame.Unlock()
		clear(reqs) // an idle connection holds no frame
	}
	c.calls.Wait()
	c.s.ev.push(event{kind: evClose, c: c})
	c.out.finish(websocket.StatusNormalClosure, "")
}

// read reads the next message into a new buffer of capacity size, grown
// as it needs: the requests of a frame alias it, so it is not reused.
func (c *conn) read(ctx context.Context, size int) (websocket.MessageType, []byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return typ, b, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// respond queues the response to the next request.
func (c *conn) respond(msg []byte) {
	seq := c.seq
	c.seq++
	c.s.ev.push(event{kind: evResponse, c: c, seq: seq, msg: msg})
}

func (c *conn) closing() bool {
	select {
	case <-c.drainReq:
		return true
	default:
		return false
	}
}

func (c *conn) handle(r *request) {
	e := c.enc
	switch r.kind {
	case tagCallReducer:
		if c.closing() {
			c.respond(e.reducerError(r.id, ErrShutdown.Error()))
			return
		}
		rm, err := c.s.sch.reducer(r.reducer)
		if err != nil {
			c.respond(e.reducerError(r.id, err.Error()))
			return
		}
		args := r.args
		if e.json {
			if args, err = rm.encodeArgs(r.jsonArgs); err != nil {
				c.respond(e.reducerError(r.id, err.Error()))
				return
			}
		}
		c.sem <- struct{}{}
		c.calls.Add(1)
		seq := c.seq
		c.seq++
		b := &callBody{d: rm.def, args: args, rm: rm, reqID: r.id, seq: seq}
		b.call.Reducer, b.call.Caller, b.call.Body, b.call.Size, b.call.Notify = rm.def, c.identity, b, len(args)+128, c.notify
		if err := c.s.db.Submit(&b.call); err != nil {
			<-c.sem
			c.calls.Done()
			c.s.ev.push(event{kind: evResponse, c: c, seq: seq, msg: e.reducerError(r.id, err.Error())})
		}
	case tagSubscribe:
		c.subscribe(r)
	case tagUnsubscribe:
		seq := c.seq
		c.seq++
		c.s.ev.push(event{kind: evUnsubscribe, c: c, seq: seq, reqID: r.id, qsid: r.qsid})
	case tagOneOffQuery:
		c.calls.Wait() // it sees every earlier call of the connection
		c.respond(c.oneOff(r))
	}
}

// callBody is a reducer call with encoded arguments.
type callBody struct {
	call   runtime.Call
	d      *reducer.Def
	rm     *reducerMeta
	reqID  uint64
	seq    uint64 // the request's number on its connection
	args   []byte
	result []byte
}

func (b *callBody) Run(c *reducer.Ctx) (err error) {
	b.result, err = b.d.CallEncoded(c, b.args)
	return err
}

// reducerError is a ReducerResult that failed.
func (e enc) reducerError(id uint64, msg string) []byte {
	b := e.start(nil, "ReducerResult", tagReducerResult)
	b = e.uint(b, "request_id", true, id)
	b = e.bool(b, "ok", false, false)
	b = e.str(b, "error", false, msg)
	return e.end(b)
}

// reducerResult is the ReducerResult of a call that finished.
func (e enc) reducerResult(b *callBody) []byte {
	if err := b.call.Err(); err != nil {
		return e.reducerError(b.reqID, err.Error())
	}
	m := e.start(nil, "ReducerResult", tagReducerResult)
	m = e.uint(m, "request_id", true, b.reqID)
	m = e.bool(m, "ok", false, true)
	if !e.json {
		m = codec.AppendBytes(m, b.result)
		return e.end(m)
	}
	m = e.key(m, "result", false)
	m, err := b.rm.resultJSON(m, b.result)
	if err != nil {
		return e.reducerError(b.reqID, fmt.Sprintf("the result of %s does not decode by its signature: %v", b.d.Name(), err))
	}
	return e.end(m)
}

// oneOff answers a OneOffQuery from the newest durable view.
func (c *conn) oneOff(r *request) []byte {
	e := c.enc
	fail := func(err error) []byte {
		b := e.start(nil, "OneOffQueryResult", tagOneOffQueryResult)
		b = e.uint(b, "request_id", true, r.id)
		b = e.bool(b, "ok", false, false)
		b = e.queryError(b, err)
		return e.end(b)
	}
	q, err := query.Compile(c.s.sch.cat, r.query, query.Options{OneOff: true})
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := c.s.db.View(ctx)
	if err != nil {
		return fail(err)
	}
	return e.oneOffResult(r.id, v.TxID, q, viewSource{v, c.s.sch})
}

// drain stops the connection taking requests, waits for its calls in
// flight, and closes it once their results are written (Shutdown).
func (c *conn) drain() {
	c.drainOne.Do(func() { close(c.drainReq) })
	c.frame.Lock() // the frame being handled is submitted whole
	defer c.frame.Unlock()
	c.calls.Wait()
	c.s.ev.push(event{kind: evDrain, c: c})
}

// outbox is a connection's queue of messages to write, bounded in bytes.
// Its writer goroutine runs only while there is something to write: it
// starts when a message comes to an empty queue and ends when the queue
// is empty again, so that an idle connection holds no writer's stack
// and no frame buffer.
type outbox struct {
	mu       sync.Mutex
	msgs     [][]byte
	bytes    int
	max      int
	start    func() // starts the writer goroutine
	running  bool   // the writer runs, or ended the connection
	overflow bool
	done     bool // finish was called: write what is queued, then close
	code     websocket.StatusCode
	reason   string
}

func (o *outbox) init(max int, start func()) {
	o.max = max
	o.start = start
}

// push queues m and starts the writer if it is not running.
func (o *outbox) push(m []byte) {
	if o.add(m) {
		o.start()
	}
}

// add queues m, reporting whether the writer must be started (o.start);
// past the bound the connection is marked to be closed.
func (o *outbox) add(m []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.overflow || o.done {
		return false
	}
	o.bytes += len(m)
	if o.bytes > o.max {
		o.overflow = true
		o.msgs = nil
	} else {
		o.msgs = append(o.msgs, m)
	}
	return o.wanted()
}

// wanted marks the writer running and reports whether it was not.
func (o *outbox) wanted() bool {
	if o.running {
		return false
	}
	o.running = true
	return true
}

// finish makes the writer close the connection with code once what is
// queued is written.
func (o *outbox) finish(code websocket.StatusCode, reason string) {
	o.mu.Lock()
	if !o.done {
		o.done, o.code, o.reason = true, code, reason
	}
	start := o.wanted()
	o.mu.Unlock()
	if start {
		o.start()
	}
}

// frames holds the writers' frame buffers between their runs.
var frames = sync.Pool{New: func() any { return new([]byte) }}

// maxFrame is the most bytes of messages the writer puts in one frame.
const maxFrame = 1 << 20

// writer writes queued messages, as many to a frame as are waiting,
// until the queue is empty or the connection ends.
func (c *conn) writer() {
	typ := websocket.MessageText
	if !c.enc.json {
		typ = websocket.MessageBinary
	}
	buf := frames.Get().(*[]byte)
	defer frames.Put(buf)
	frame := (*buf)[:0]
	defer func() {
		if cap(frame) <= maxFrame {
			*buf = frame[:0]
		}
	}()
	o := &c.out
	for {
		o.mu.Lock()
		msgs, over, done, code, reason := o.msgs, o.overflow, o.done, o.code, o.reason
		o.msgs, o.bytes = nil, 0
		if len(msgs) == 0 && !over && !done {
			o.running = false // idle: the next message starts a writer
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		if over {
			c.ws.Close(websocket.StatusPolicyViolation, "outbound queue overflow: the client does not read its messages fast enough")
			return
		}
		for len(msgs) > 0 {
			n, size := 0, 0
			for n < len(msgs) && (n == 0 || size+len(msgs[n]) <= maxFrame) {
				size += len(msgs[n])
				n++
			}
			frame = c.enc.frame(frame[:0], msgs[:n])
			msgs = msgs[n:]
			// A write that takes 30 s closes the connection: one timer
			// per connection, set for each frame.
			c.stuck.Reset(30 * time.Second)
			err := c.ws.Write(context.Background(), typ, frame)
			c.stuck.Stop()
			if err != nil {
				c.ws.CloseNow()
				return
			}
		}
		if done {
			c.ws.Close(code, reason)
			return
		}
	}
}
