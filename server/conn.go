package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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
	sem      gate           // calls in flight, bounded
	calls    sync.WaitGroup // calls in flight
	out      outbox
	drainReq chan struct{}
	drainOne sync.Once
	frame    sync.Mutex // held while the reader handles a frame
	// shut, under frame, is whether a drain had begun when the frame
	// being handled was: its requests are refused, or all taken.
	shut bool
	// cut, under frame, is set once the drain took the connection: the
	// frames read after that are not handled.
	cut bool

	reqs   []request           // the frame being handled (reader)
	batch  []*runtime.Call     // calls of the frame not yet submitted (reader)
	stuck  *time.Timer         // closes the connection when a write takes too long
	notify func(*runtime.Call) // Notify of every call

	// owned by the evaluator
	dirty    bool             // in evaluator.dirty
	next     uint64           // the request whose response goes out next
	ready    map[uint64]*resp // responses waiting for earlier ones
	sets     map[uint64]*qset
	closed   bool
	draining bool // drained while responses were held: close once they are written
}

// resp is the response to one request: a message, or a query set whose
// SubscribeApplied is built when its turn comes.
type resp struct {
	msg []byte
	qs  *qset
}

func newConn(s *Server, ws *websocket.Conn, e enc, id reducer.Identity) *conn {
	c := &conn{s: s, ws: ws, enc: e, id: s.nextID.Add(1), identity: id,
		sem: gate{max: int64(s.opts.MaxInFlight)}, drainReq: make(chan struct{}),
		ready: map[uint64]*resp{}, sets: map[uint64]*qset{}}
	c.out.init(s.opts.MaxQueueBytes, !e.json, func() { go c.writer() })
	c.stuck = time.AfterFunc(time.Hour, func() { ws.CloseNow() })
	c.stuck.Stop()
	c.notify = func(call *runtime.Call) {
		b := call.Body.(*callBody)
		c.sem.release()
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
		b = e.uint(b, "max_message_bytes", false, uint64(s.opts.MaxMessageBytes))
		b = append(b, ',')
		b = append(b, s.initJSON...)
	} else {
		b = e.str(b, "", false, s.sch.module)
		b = e.uint(b, "", false, uint64(s.opts.MaxMessageBytes))
	}
	return e.end(b)
}

// serve reads requests until the connection closes, then waits for its
// calls in flight and tells the evaluator.
func (c *conn) serve() {
	ctx := context.Background()
	size := 512 // the last frame's size: the next one's first guess
	for {
		typ, buf, err := c.read(ctx, size)
		if err != nil {
			if st := websocket.CloseStatus(err); st == -1 && !errors.Is(err, context.Canceled) {
				c.s.log.Debug("keel: server: read", "conn", c.id, "err", err)
			}
			break
		}
		data := *buf
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
		// A drain that begins while the frame is handled waits for it
		// (drain): the frame is handled whole, none of its requests
		// refused because the drain began after the one before. Once
		// the drain took the connection (cut), no frame is handled: the
		// connection closes once the responses of the requests read
		// before are written, which a later request's could follow.
		c.shut = c.closing()
		switch {
		case c.cut:
		case err != nil:
			c.respond(c.enc.errorMsg(0, err.Error()))
		default:
			for i := range reqs {
				c.handle(&reqs[i])
			}
			c.submit()
		}
		if c.s.ev.framed != nil {
			c.s.ev.framed()
		}
		c.frame.Unlock()
		clear(reqs)     // an idle connection holds no frame
		putReadBuf(buf) // nothing refers to the frame once it is handled
	}
	c.calls.Wait()
	c.s.ev.push(event{kind: evClose, c: c})
	c.out.finish(websocket.StatusNormalClosure, "")
}

// readBufs holds the readers' frame buffers between frames, so that an
// idle connection holds none and a busy one allocates none per frame.
var readBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxReadBuf is the largest frame buffer kept for the next frame.
const maxReadBuf = 64 << 10

func putReadBuf(b *[]byte) {
	if cap(*b) <= maxReadBuf {
		*b = (*b)[:0]
		readBufs.Put(b)
	}
}

// read reads the next message into a buffer from readBufs of capacity at
// least size, grown as it needs. The requests of a frame alias it until
// they are handled (their arguments are copied into their calls), then
// it goes back (putReadBuf).
func (c *conn) read(ctx context.Context, size int) (websocket.MessageType, *[]byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	buf := readBufs.Get().(*[]byte)
	b := (*buf)[:0]
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return typ, buf, nil
		}
		if err != nil {
			*buf = b
			putReadBuf(buf)
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

// closing reports whether the connection is drained (Shutdown); handle
// reads it once a frame, as shut.
func (c *conn) closing() bool {
	select {
	case <-c.drainReq:
		return true
	default:
		return false
	}
}

// handle handles one request. Calls are gathered to be submitted
// together (submit), in order: any other request submits those before
// it first.
func (c *conn) handle(r *request) {
	e := c.enc
	if r.kind != tagCallReducer {
		c.submit()
	}
	switch r.kind {
	case tagCallReducer:
		if c.shut {
			c.respond(e.reducerError(r.id, ErrShutdown.Error()))
			return
		}
		rm, err := c.s.sch.reducer(r.reducer)
		if err != nil {
			c.respond(e.reducerError(r.id, err.Error()))
			return
		}
		b := bodies.Get().(*callBody)
		if e.json {
			if b.args, err = rm.encodeArgs(r.jsonArgs); err != nil {
				putBody(b)
				c.respond(e.reducerError(r.id, err.Error()))
				return
			}
		} else {
			b.args = append(b.args[:0], r.args...) // the frame's buffer is reused
		}
		if !c.sem.tryAcquire() {
			c.submit() // the calls waited for may be among those not yet submitted
			c.sem.acquire()
		}
		c.calls.Add(1)
		b.d, b.rm, b.reqID, b.seq = rm.def, rm, r.id, c.seq
		c.seq++
		b.call = runtime.Call{Reducer: rm.def, Caller: c.identity, Body: b, Size: len(b.args) + 128, Notify: c.notify}
		c.batch = append(c.batch, &b.call)
		return
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

// submit queues the calls gathered from the frame (handle), in order,
// with one operation on the executor's queue; a call that cannot be
// queued is answered with its error.
func (c *conn) submit() {
	for rest := c.batch; len(rest) > 0; {
		n, err := c.s.db.SubmitAll(rest)
		if err == nil {
			break
		}
		b := rest[n].Body.(*callBody)
		c.sem.release()
		c.calls.Done()
		c.s.ev.push(event{kind: evResponse, c: c, seq: b.seq, msg: c.enc.reducerError(b.reqID, err.Error())})
		putBody(b)
		rest = rest[n+1:]
	}
	clear(c.batch)
	c.batch = c.batch[:0]
}

// gate bounds a connection's calls in flight: one reader acquires, the
// calls' Notify release. Both are an atomic add unless the reader waits
// for room.
type gate struct {
	n       atomic.Int64
	max     int64
	waiting atomic.Bool
	mu      sync.Mutex
	room    chan struct{} // closed by a release while the reader waits
}

func (g *gate) tryAcquire() bool {
	if g.n.Add(1) <= g.max {
		return true
	}
	g.n.Add(-1)
	return false
}

// acquire waits for room. The reader says it waits before it tries again,
// and a release looks for a waiter after it made room, so that one of
// them sees the other.
func (g *gate) acquire() {
	for {
		g.mu.Lock()
		room := make(chan struct{})
		g.room = room
		g.waiting.Store(true)
		g.mu.Unlock()
		ok := g.tryAcquire()
		if !ok {
			<-room
		}
		g.mu.Lock()
		g.waiting.Store(false)
		g.room = nil
		g.mu.Unlock()
		if ok {
			return
		}
	}
}

func (g *gate) release() {
	g.n.Add(-1)
	if g.waiting.Load() {
		g.mu.Lock()
		if g.room != nil {
			close(g.room)
			g.room = nil
		}
		g.mu.Unlock()
	}
}

// callBody is a reducer call with encoded arguments. Bodies are reused
// (bodies): the evaluator puts one back once it has encoded its result
// and the call's Wait has returned, after which the runtime no longer
// refers to it.
type callBody struct {
	call   runtime.Call
	d      *reducer.Def
	rm     *reducerMeta
	reqID  uint64
	seq    uint64 // the request's number on its connection
	args   []byte
	result []byte
}

// bodies holds call bodies between calls.
var bodies = sync.Pool{New: func() any { return new(callBody) }}

// maxPooledArgs is the largest arguments buffer a body keeps for its
// next call.
const maxPooledArgs = 4 << 10

// putBody gives back a body whose call finished (Wait returned) or was
// never submitted.
func putBody(b *callBody) {
	args := b.args[:0]
	if cap(args) > maxPooledArgs {
		args = nil
	}
	*b = callBody{args: args}
	bodies.Put(b)
}

func (b *callBody) Run(c *reducer.Ctx) (err error) {
	b.result, err = b.d.CallEncoded(c, b.args)
	return err
}

// reducerError is a ReducerResult that failed.
func (e enc) reducerError(id uint64, msg string) []byte {
	return e.appendReducerError(nil, id, msg)
}

func (e enc) appendReducerError(dst []byte, id uint64, msg string) []byte {
	b := e.start(dst, "ReducerResult", tagReducerResult)
	b = e.uint(b, "request_id", true, id)
	b = e.bool(b, "ok", false, false)
	b = e.str(b, "error", false, msg)
	return e.end(b)
}

// appendReducerResult appends the ReducerResult of a call that finished
// to dst.
func (e enc) appendReducerResult(dst []byte, b *callBody) []byte {
	if err := b.call.Err(); err != nil {
		return e.appendReducerError(dst, b.reqID, err.Error())
	}
	m := e.start(dst, "ReducerResult", tagReducerResult)
	m = e.uint(m, "request_id", true, b.reqID)
	m = e.bool(m, "ok", false, true)
	if !e.json {
		m = codec.AppendBytes(m, b.result)
		return e.end(m)
	}
	m = e.key(m, "result", false)
	m, err := b.rm.resultJSON(m, b.result)
	if err != nil {
		return e.appendReducerError(dst, b.reqID, fmt.Sprintf("the result of %s does not decode by its signature: %v", b.d.Name(), err))
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
// flight, and closes it once the responses of the requests read before
// are written (Shutdown).
func (c *conn) drain() {
	c.drainOne.Do(func() { close(c.drainReq) })
	c.frame.Lock() // the frame being handled is submitted whole
	defer c.frame.Unlock()
	// Every request read so far has its event in the evaluator's inbox
	// before evDrain (a call's once it finished), and the frames read
	// from now on are not handled: the evaluator closes the connection
	// when the responses it holds are out.
	c.cut = true
	c.calls.Wait()
	if !c.s.ev.push(event{kind: evDrain, c: c}) {
		// A Shutdown that gave up waiting stopped the evaluator, which
		// would have closed the connection once its responses were out:
		// none will be, so close it now.
		c.out.finish(websocket.StatusGoingAway, "server shutting down")
	}
}

// outbox is a connection's queue of messages to write, bounded in bytes.
// Its writer goroutine runs only while there is something to write: it
// starts when a message comes to an empty queue and ends when the queue
// is empty again, so that an idle connection holds no writer's stack
// and no buffer.
//
// The bound (max) is on the bytes the connection holds: a message counts
// from when it is queued until the writer wrote the frame it is in, so
// the messages the writer took but has not written yet count too. A
// message that would take them past the bound overflows the queue,
// except when the connection holds nothing else: then it is accepted,
// however large, so that the bound limits the backlog of a client that
// does not read, not the size of one message.
type outbox struct {
	mu       sync.Mutex
	q        *outq // the messages queued, nil when none
	bin      bool  // binary messages: each is queued with its length
	bytes    int   // of the messages queued or taken and not yet written
	max      int
	start    func() // starts the writer goroutine
	running  bool   // the writer runs, or ended the connection
	overflow bool
	done     bool // finish was called: write what is queued, then close
	code     websocket.StatusCode
	reason   string
}

// outq is a batch of queued messages in one buffer, one after another:
// in the binary encoding each with its uvarint length before it, so
// that a batch is the body of its frame as it is; ends[i] is the end of
// message i in b.
type outq struct {
	b    []byte
	ends []int
}

// outqs holds the batches' buffers between the writers' runs.
var outqs = sync.Pool{New: func() any { return new(outq) }}

func putOutq(q *outq) {
	if cap(q.b) > maxFrame {
		return
	}
	q.b, q.ends = q.b[:0], q.ends[:0]
	outqs.Put(q)
}

func (o *outbox) init(max int, bin bool, start func()) {
	o.max = max
	o.bin = bin
	o.start = start
}

// push queues m and starts the writer if it is not running.
func (o *outbox) push(m []byte) {
	if o.add(m) {
		o.start()
	}
}

// add queues a copy of m, reporting whether the writer must be started
// (o.start); past the bound the connection is marked to be closed.
func (o *outbox) add(m []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.overflow || o.done {
		return false
	}
	n := len(m) // the bytes m takes in the batch
	if o.bin {
		n += codec.UvarintLen(uint64(len(m)))
	}
	if o.bytes > 0 && o.bytes+n > o.max {
		o.overflow = true
		if o.q != nil {
			putOutq(o.q)
			o.q = nil
		}
	} else {
		o.bytes += n
		if o.q == nil {
			o.q = outqs.Get().(*outq)
		}
		q := o.q
		if o.bin {
			q.b = codec.AppendBytes(q.b, m)
		} else {
			q.b = append(q.b, m...)
		}
		q.ends = append(q.ends, len(q.b))
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

// frames holds the JSON writers' frame buffers between their runs.
var frames = sync.Pool{New: func() any { return new([]byte) }}

// maxFrame is the most bytes of messages the writer puts in one frame.
const maxFrame = 1 << 20

// writer writes queued messages, as many to a frame as are waiting,
// until the queue is empty or the connection ends.
func (c *conn) writer() {
	o := &c.out
	for {
		o.mu.Lock()
		q, over, done, code, reason := o.q, o.overflow, o.done, o.code, o.reason
		o.q = nil // its bytes count until they are written (wrote)
		if q == nil && !over && !done {
			o.running = false // idle: the next message starts a writer
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		if over {
			if q != nil {
				putOutq(q)
			}
			c.ws.Close(websocket.StatusPolicyViolation, "outbound queue overflow: the client does not read its messages fast enough")
			return
		}
		if q != nil {
			err := c.write(q)
			putOutq(q)
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

// write writes a batch of messages in frames of at most maxFrame bytes
// of messages (or one message): a binary frame is a slice of the batch,
// a JSON frame the array of its messages.
func (c *conn) write(q *outq) error {
	typ := websocket.MessageBinary
	var buf *[]byte
	if c.enc.json {
		typ = websocket.MessageText
		buf = frames.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= maxFrame {
				*buf = (*buf)[:0]
				frames.Put(buf)
			}
		}()
	}
	from, i := 0, 0 // the frame's first byte and message
	for i < len(q.ends) {
		n := i + 1
		for n < len(q.ends) && q.ends[n]-from <= maxFrame {
			n++
		}
		to := q.ends[n-1]
		frame := q.b[from:to]
		if c.enc.json {
			f := append((*buf)[:0], '[')
			at := from
			for k := i; k < n; k++ {
				if k > i {
					f = append(f, ',')
				}
				f = append(f, q.b[at:q.ends[k]]...)
				at = q.ends[k]
			}
			frame = append(f, ']')
			*buf = frame
		}
		// A write that takes 30 s closes the connection: one timer per
		// connection, set for each frame.
		c.stuck.Reset(30 * time.Second)
		err := c.ws.Write(context.Background(), typ, frame)
		c.stuck.Stop()
		if err != nil {
			return err
		}
		c.out.wrote(to - from)
		from, i = to, n
	}
	return nil
}

// wrote counts n bytes of the messages taken by the writer as written:
// they no longer count toward the bound.
func (o *outbox) wrote(n int) {
	o.mu.Lock()
	o.bytes -= n
	o.mu.Unlock()
}
