package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
)

// Options configure a connection.
type Options struct {
	// Token is a token from an earlier connection (Conn.Token) or from an
	// identity provider the server trusts: the connection keeps that
	// identity, for as long as the server takes the token (it does not
	// renew it: see Reconnecting in the package doc). "" asks the server
	// for a new identity.
	Token string
	// Logger receives reconnection reports; nil discards.
	Logger *slog.Logger
	// NoReconnect turns off dialing again when the connection drops.
	NoReconnect bool
	// MaxBackoff bounds the wait between two dials; 0 means 5 s.
	MaxBackoff time.Duration
	// MaxQueueBytes bounds the memory of the messages received and not
	// yet done by the callbacks (the one running included): the bytes of
	// the updates and replies that wait for a callback to return (see
	// Callbacks in the package doc). A message is taken, however large,
	// when nothing else is held. One that would pass the bound ends the
	// connection with an error that matches ErrQueueFull: calls and
	// requests in flight fail with it, and the client (unless
	// NoReconnect) dials again once the callbacks have run every message
	// held, not before. 0 means 64 MiB; a negative value is an error (ErrOptions).
	// Keep it above the largest frame the server writes (1 MiB of
	// messages, or one larger message): a frame's messages arrive at once.
	MaxQueueBytes int64
}

// defaultMaxQueueBytes is Options.MaxQueueBytes's default.
const defaultMaxQueueBytes = 64 << 20

// ErrOptions matches Dial's error for an Options field that holds a
// value it does not take.
var ErrOptions = errors.New("keel: client: invalid options")

// ErrDisconnected is the error of calls and requests in flight when the
// connection dropped: they may or may not have run; and of those made
// while the client dials again, which are not sent.
var ErrDisconnected = errors.New("keel: client: disconnected")

// ErrClosed is the error of requests after Close.
var ErrClosed = errors.New("keel: client: closed")

// ErrRefused matches the error of Dial, and of the requests made after
// the client stopped dialing again, when the server refused to take the
// connection: the token (status 4001; the error matches ErrTokenRefused
// too) or the module's connect reducer (4002). It is a *RefusedError,
// which carries the server's reason. See Reconnecting in the package doc.
var ErrRefused = errors.New("keel: client: connection refused")

// ErrTokenRefused matches the error of a connection whose token the
// server refused (status 4001): expired (the server's
// Options.TokenTTL), signed with another key, or of an issuer it does
// not trust.
var ErrTokenRefused = errors.New("keel: client: token refused")

// RefusedError is the server's refusal of a connection, as its close
// frame tells: it matches ErrRefused, and ErrTokenRefused when the token
// was refused.
type RefusedError struct {
	URL    string
	Code   int    // the close status: 4001, the token; 4002, the connect reducer
	Reason string // the server's, such as "connect reducer: banned"
}

func (e *RefusedError) Error() string {
	what := "the connection"
	if e.Code == int(statusInvalidToken) {
		what = "the token"
	}
	return fmt.Sprintf("keel: client: %s refused %s (status %d): %s", e.URL, what, e.Code, strings.TrimPrefix(e.Reason, "keel: "))
}

// Is matches ErrRefused, and ErrTokenRefused for a token refused.
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || (target == ErrTokenRefused && e.Code == int(statusInvalidToken))
}

// ErrTooLarge is the error of a request whose message is larger than the
// largest frame the server reads (its InitialConnection tells): it is
// not sent.
var ErrTooLarge = errors.New("keel: client: message too large")

// ErrQueueFull matches the error with which the client ends a
// connection whose callbacks are behind: a message it received would
// take the messages held for the callbacks past Options.MaxQueueBytes.
// That error matches ErrDisconnected too: it is the error of the calls
// and requests in flight then, which may or may not have run.
var ErrQueueFull = errors.New("keel: client: callbacks behind")

// queueFull is an ErrQueueFull (and an ErrDisconnected) that tells the
// sizes.
type queueFull struct{ size, held, max int64 }

func (e *queueFull) Error() string {
	return kerr.Sprintf("keel: client: disconnected: callbacks behind: a message of %d bytes, with %d bytes held for the callbacks, passes Options.MaxQueueBytes of %d", e.size, e.held, e.max)
}
func (e *queueFull) Is(target error) bool { return target == ErrQueueFull || target == ErrDisconnected }

// tooLarge is an ErrTooLarge that tells the request and the sizes.
type tooLarge struct{ msg string }

func (e *tooLarge) Error() string        { return e.msg }
func (e *tooLarge) Is(target error) bool { return target == ErrTooLarge }

// RemoteError is an error the server reported for one request: a
// reducer that failed, arguments it refused, a query that did not
// compile (with its position).
type RemoteError struct {
	Request string // "reducer NAME", "subscribe", "query", ...
	Msg     string
	Offset  int // in the query text, or -1
	Line    int
	Column  int
}

// Error is the message with one "keel:" prefix: the server's own (Msg
// has it when the server made the error) is dropped.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("keel: server: %s: %s", e.Request, strings.TrimPrefix(e.Msg, "keel: "))
}

// Conn is a connection to a Keel server: a keel.Conn. It is safe for
// concurrent use.
type Conn struct {
	url  string
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	ws       *websocket.Conn
	identity reducer.Identity
	token    string
	nextID   uint64
	pending  map[uint64]*waiter
	sets     map[uint64]*Subscription
	nextSet  uint64
	out      [][]byte // messages for the connection ws, dropped with it
	wake     chan struct{}
	closed   bool
	refused  *RefusedError // the server refused a dial again: the client dials no more
	gen      int           // connection generation
	maxFrame int64         // the largest frame the server reads (its InitialConnection)

	beforeWrite      func() // set by tests (export_test.go): runs before each batch is written
	afterResubscribe func() // set by tests (export_test.go): runs after each resubscribe
	afterAdd         func() // set by tests (export_test.go): runs once Subscribe has added its query set
	afterDrain       func() // set by tests (export_test.go): runs once the reader waited for the callbacks to catch up

	cache   cache
	ev      events
	onTx    []func(Tx)
	closer  sync.Once
	done    chan struct{}
	stopped chan struct{} // closed when the reader returns: it dials no more
}

// waiter is a request waiting for its response.
type waiter struct {
	call *keel.Call
	enc  keel.Encoder
	name string
	resp chan response
	// apply, when set, reads the response on the reader goroutine and
	// returns what install to run on the event goroutine, in order with
	// the other messages: a SubscribeApplied's rows enter the cache
	// before the updates that follow them.
	apply func(r response) (install func(), err error)
	// direct tells a request made on the event goroutine (inside a
	// callback): it finishes as its reply comes, without waiting for the
	// event goroutine, which waits for it.
	direct bool
}

// what names the request, for errors.
func (w *waiter) what() string {
	if w.call != nil {
		return "reducer " + w.name
	}
	if w.name != "" {
		return w.name
	}
	return "request"
}

type response struct {
	tag  byte
	body *codec.Reader
	err  error
}

// Tx describes a transaction whose update was applied to the cache.
type Tx struct {
	ID      uint64
	Time    time.Time
	Reducer string
	Caller  reducer.Identity
}

// Dial connects to the server at url (ws:// or wss://) and waits for its
// InitialConnection. A server that refuses the token or whose connect
// reducer refuses the identity makes it return a *RefusedError.
func Dial(ctx context.Context, url string, opts Options) (*Conn, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.MaxQueueBytes < 0 {
		return nil, kerr.Errorf("keel: client: Options.MaxQueueBytes is %d, negative; 0 means its default: %w", opts.MaxQueueBytes, ErrOptions)
	}
	if opts.MaxQueueBytes == 0 {
		opts.MaxQueueBytes = defaultMaxQueueBytes
	}
	c := &Conn{url: url, opts: opts, log: opts.Logger, token: opts.Token, pending: map[uint64]*waiter{},
		sets: map[uint64]*Subscription{}, wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	c.cache.init()
	c.ev.init(opts.MaxQueueBytes)
	ws, _, err := c.dial(ctx, false)
	if err != nil {
		return nil, err
	}
	go c.ev.loop()
	go c.writer()
	go c.reader(ws)
	return c, nil
}

// dial opens a WebSocket and reads the InitialConnection. A dial again
// after a drop (again) queues the Subscribes of the query sets before
// the connection takes any other request, and returns them as a
// resubscription (see regroup).
func (c *Conn) dial(ctx context.Context, again bool) (*websocket.Conn, *regroup, error) {
	h := http.Header{}
	c.mu.Lock()
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	c.mu.Unlock()
	ws, _, err := websocket.Dial(ctx, c.url, &websocket.DialOptions{Subprotocols: []string{protocolBinary}, HTTPHeader: h})
	if err != nil {
		return nil, nil, kerr.Errorf("keel: client: dial %s: %w", c.url, err)
	}
	ws.SetReadLimit(1 << 30)
	if ws.Subprotocol() != protocolBinary {
		ws.CloseNow()
		return nil, nil, fmt.Errorf("keel: client: %s does not speak %s", c.url, protocolBinary)
	}
	typ, b, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		var ce websocket.CloseError
		if errors.As(err, &ce) && (ce.Code == statusInvalidToken || ce.Code == statusConnectRefused) {
			return nil, nil, &RefusedError{URL: c.url, Code: int(ce.Code), Reason: ce.Reason}
		}
		return nil, nil, kerr.Errorf("keel: client: %s: %w", c.url, err)
	}
	msgs, err := splitFrame(typ, b)
	if err != nil || len(msgs) == 0 || msgs[0][0] != tagInitialConnection {
		ws.CloseNow()
		return nil, nil, fmt.Errorf("keel: client: %s did not start with InitialConnection", c.url)
	}
	d := codec.NewReader(msgs[0][1:])
	id, tok := d.Text(), d.Text()
	d.Uvarint()
	d.Text() // module
	maxFrame := int64(d.Uvarint())
	if d.Failed() || maxFrame <= 0 {
		maxFrame = defaultMaxFrame // a server that does not say
	}
	c.mu.Lock()
	if c.closed {
		// Close ran during the dial: the connection is not kept.
		c.mu.Unlock()
		ws.CloseNow()
		return nil, nil, ErrClosed
	}
	c.ws, c.identity, c.token, c.maxFrame = ws, reducer.Identity(id), tok, maxFrame
	c.gen++
	var g *regroup
	if again {
		g = c.regroupLocked()
	}
	c.mu.Unlock()
	return ws, g, nil
}

// Identity returns the connection's identity, as its reducers see it.
func (c *Conn) Identity() reducer.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// Token returns the token that reconnects with the same identity; keep
// it secret. It is the one the server gave, which for a connection that
// presented a token (Options.Token) is that token: the server does not
// renew it, so it expires when that token does (see Reconnecting in the
// package doc).
func (c *Conn) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// OnTransaction registers fn to run after each transaction's update was
// applied to the cache, after the tables' callbacks. During a
// resubscription, what an update changes in the query sets subscribed
// again enters the cache with the resubscription (see Reconnecting in
// the package doc).
func (c *Conn) OnTransaction(fn func(Tx)) {
	c.cache.mu.Lock()
	c.onTx = append(c.onTx, fn)
	c.cache.mu.Unlock()
}

// Close closes the connection; calls in flight fail with ErrClosed.
func (c *Conn) Close() error {
	c.closer.Do(func() {
		c.mu.Lock()
		c.closed = true
		ws := c.ws
		c.out = nil
		c.mu.Unlock()
		if ws != nil {
			ws.Close(websocket.StatusNormalClosure, "")
		}
		c.failAll(ErrClosed)
		c.ev.close()
		close(c.done)
		c.signal()
	})
	return nil
}

func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues a message and registers its waiter under a new request id.
func (c *Conn) send(w *waiter, build func(id uint64) []byte) error {
	return c.sendIf(w, nil, build)
}

// sendIf is send, where cond, when not nil, runs with mu held once the
// connection is up, just before the message is queued: an error it
// returns is sendIf's, and nothing is sent.
func (c *Conn) sendIf(w *waiter, cond func() error, build func(id uint64) []byte) error {
	w.direct = c.ev.inside()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.refused != nil {
		return c.refused
	}
	if c.ws == nil {
		return ErrDisconnected
	}
	if cond != nil {
		if err := cond(); err != nil {
			return err
		}
	}
	return c.queueLocked(w, build)
}

// queueLocked queues a message for the connection, which is up, and
// registers its waiter under a new request id; it is called with mu
// held.
func (c *Conn) queueLocked(w *waiter, build func(id uint64) []byte) error {
	c.nextID++
	id := c.nextID
	msg := build(id)
	if n := int64(codec.UvarintLen(uint64(len(msg))) + len(msg)); n > c.maxFrame {
		// The server would close the connection, failing every other
		// request in flight: this one fails alone, never sent.
		return &tooLarge{kerr.Sprintf("keel: client: %s: a message of %d bytes, over the server's limit of %d", w.what(), n, c.maxFrame)}
	}
	c.pending[id] = w
	c.out = append(c.out, msg)
	if len(c.out) == 1 {
		c.signal()
	}
	return nil
}

// defaultMaxFrame is the largest frame sent to a server whose
// InitialConnection does not tell its own: the server's default.
const defaultMaxFrame = 1 << 20

// writer writes the queued messages, as many to a frame as are waiting
// and fit in the largest frame the server reads (sendIf refuses a
// message larger than that).
func (c *Conn) writer() {
	var frame []byte
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		msgs, ws, maxFrame, hook := c.out, c.ws, c.maxFrame, c.beforeWrite
		c.out = nil
		c.mu.Unlock()
		if len(msgs) == 0 || ws == nil {
			continue
		}
		if hook != nil {
			hook()
		}
		for len(msgs) > 0 {
			frame = codec.AppendBytes(frame[:0], msgs[0])
			n := 1
			for ; n < len(msgs); n++ {
				next := codec.AppendBytes(frame, msgs[n])
				if int64(len(next)) > maxFrame {
					break
				}
				frame = next
			}
			msgs = msgs[n:]
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := ws.Write(ctx, websocket.MessageBinary, frame)
			cancel()
			if err != nil {
				ws.CloseNow()
				break
			}
		}
	}
}

// Submit sends a reducer call and returns; the call reports through its
// Wait or Notify. Its body must be a keel.Encoder, as the calls of the
// generated clients (keel.Run and keel.Go) are. The call's Caller is
// ignored: the server knows the connection's identity.
func (c *Conn) Submit(call *keel.Call) error {
	enc, ok := call.Body.(keel.Encoder)
	if !ok || call.Reducer == nil {
		return fmt.Errorf("keel: client: a call over the network needs a named reducer and an encoding body (keel.Encoder), not %T", call.Body)
	}
	args, err := enc.AppendArgs(nil)
	if err != nil {
		return err
	}
	name := call.Reducer.Name()
	call.Begin()
	w := &waiter{call: call, enc: enc, name: name}
	if err := c.send(w, func(id uint64) []byte {
		b := []byte{tagCallReducer}
		b = codec.AppendUvarint(b, id)
		b = codec.AppendString(b, name)
		return codec.AppendBytes(b, args)
	}); err != nil {
		call.Complete(err)
	}
	return nil
}

// Do runs a reducer call and waits for its outcome.
func (c *Conn) Do(call *keel.Call) error {
	if err := c.Submit(call); err != nil {
		return err
	}
	return call.Wait(call.Ctx)
}

// request sends a message and waits for its response; apply, if not nil,
// handles it first (see waiter.apply).
func (c *Conn) request(ctx context.Context, build func(id uint64) []byte, apply ...func(response) (func(), error)) (response, error) {
	return c.requestIf(ctx, nil, build, apply...)
}

// requestIf is request, sending only if cond allows (see sendIf).
func (c *Conn) requestIf(ctx context.Context, cond func() error, build func(id uint64) []byte, apply ...func(response) (func(), error)) (response, error) {
	w := &waiter{resp: make(chan response, 1)}
	if len(apply) > 0 {
		w.apply = apply[0]
	}
	if err := c.sendIf(w, cond, build); err != nil {
		return response{}, err
	}
	select {
	case r := <-w.resp:
		return r, r.err
	case <-ctx.Done():
		return response{}, ctx.Err()
	}
}

// failAll ends every request in flight with err.
func (c *Conn) failAll(err error) {
	c.mu.Lock()
	ws := c.pending
	c.pending = map[uint64]*waiter{}
	c.mu.Unlock()
	for _, w := range ws {
		w.finish(response{err: err})
	}
}

func (w *waiter) finish(r response) {
	if w.call != nil {
		err := r.err
		if err == nil {
			err = w.result(r)
		}
		w.call.Complete(err)
		return
	}
	w.resp <- r
}

// result decodes a ReducerResult into the call's body.
func (w *waiter) result(r response) error {
	d := r.body
	if !d.Bool() {
		return &RemoteError{Request: "reducer " + w.name, Msg: d.Text(), Offset: -1}
	}
	res := d.Bytes(false)
	if err := d.Err(); err != nil {
		return kerr.Errorf("keel: client: ReducerResult of %s: %w", w.name, err)
	}
	return w.enc.DecodeResult(res)
}

// reader reads frames until the connection drops, then reconnects.
func (c *Conn) reader(ws *websocket.Conn) {
	defer close(c.stopped)
	for {
		err := c.readLoop(ws)
		// The connection is closed before its requests fail, so that
		// none is written to it after its caller was told: a write in
		// progress fails, and so does any later one. What is still
		// queued was for this connection alone: it fails with the rest
		// and is dropped, never sent on the next connection (a call
		// would run after its caller was told it failed, a Subscribe
		// would start a query set no Subscription follows).
		ws.CloseNow()
		c.mu.Lock()
		closed := c.closed
		c.ws = nil
		c.out = nil
		c.mu.Unlock()
		if closed {
			// Close ended the connection: its requests fail as Close
			// says, whichever of the two fails them first.
			c.failAll(ErrClosed)
			return
		}
		full := errors.Is(err, ErrQueueFull)
		if full {
			c.failAll(err)
		} else {
			c.failAll(ErrDisconnected)
		}
		if c.opts.NoReconnect {
			c.Close()
			return
		}
		if full {
			c.log.Info("keel: client: disconnected; dialing again once the callbacks ran what they hold", "url", c.url, "err", err)
		} else {
			c.log.Info("keel: client: disconnected, dialing again", "url", c.url, "err", err)
		}
		if full {
			// A connection dialed now would fill the queue again with
			// the updates the callbacks cannot take yet.
			c.ev.drain()
			c.mu.Lock()
			hook := c.afterDrain
			c.mu.Unlock()
			if hook != nil {
				hook()
			}
		}
		var g *regroup
		ws, g = c.redial()
		if ws == nil {
			return
		}
		// Before the new connection's messages: the resubscription's
		// responses come first among them.
		c.ev.add(event{run: func() { c.regroupStart(g) }})
	}
}

// redial dials until a connection is up, and returns it with its
// resubscription; nil once Close ran or the server refused the client.
func (c *Conn) redial() (*websocket.Conn, *regroup) {
	wait := backoff(0, c.opts.MaxBackoff)
	for {
		select {
		case <-c.done:
			return nil, nil
		case <-time.After(wait):
		}
		// Close ends the dial.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stop := make(chan struct{})
		go func() {
			select {
			case <-c.done:
				cancel()
			case <-stop:
			}
		}()
		ws, g, err := c.dial(ctx, true)
		close(stop)
		cancel()
		if err == nil {
			return ws, g
		}
		if errors.Is(err, ErrClosed) {
			return nil, nil
		}
		if re := (*RefusedError)(nil); errors.As(err, &re) {
			// Dialing again would be refused again (the token does not
			// get younger), each time after a transaction of the
			// connect reducer: the requests fail with the refusal until
			// Close.
			c.log.Error("keel: client: the server refuses the connection; not dialing again", "err", err)
			c.mu.Lock()
			c.refused = re
			c.mu.Unlock()
			return nil, nil
		}
		c.log.Info("keel: client: dial", "err", err)
		wait = backoff(wait, c.opts.MaxBackoff)
	}
}

// backoff returns the wait before the dial after one that waited wait (0
// for the first): 50 ms, doubling, never over limit.
func backoff(wait, limit time.Duration) time.Duration {
	if wait <= 0 {
		return min(50*time.Millisecond, limit)
	}
	return min(wait*2, limit)
}

func (c *Conn) readLoop(ws *websocket.Conn) error {
	for {
		typ, b, err := ws.Read(context.Background())
		if err != nil {
			return err
		}
		msgs, err := splitFrame(typ, b)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := c.handle(m); err != nil {
				return err
			}
		}
	}
}

// handle hands message m to the event goroutine, or to the request
// made inside a callback that waits for it; it returns a *queueFull,
// which ends the connection, when the queue has no room for m.
func (c *Conn) handle(m []byte) error {
	d := codec.NewReader(m[1:])
	size := int64(len(m))
	switch m[0] {
	case tagTransactionUpdate:
		return behind(c.ev.add(event{run: func() { c.cache.transaction(c, d) }, size: size}))
	case tagReducerResult, tagSubscribeApplied, tagSubscriptionError, tagOneOffQueryResult, tagUnsubscribeApplied, tagError:
		id := d.Uvarint()
		c.mu.Lock()
		w := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if w == nil {
			if m[0] == tagError {
				c.log.Error("keel: client: the server reports", "err", d.Text())
			}
			return nil
		}
		r := response{tag: m[0], body: d}
		var install func()
		if m[0] == tagError {
			r = response{err: &RemoteError{Request: "request", Msg: d.Text(), Offset: -1}}
		} else if w.apply != nil {
			install, r.err = w.apply(r)
		}
		if w.direct {
			// Its caller is the event goroutine, which does not run
			// before the request returns: the reply alone is not
			// queued, what it changes in the cache is.
			if install != nil {
				if err := c.ev.add(event{run: install, size: size}); errors.Is(err, ErrQueueFull) {
					w.finish(response{err: err})
					return err
				}
			}
			w.finish(r)
			return nil
		}
		return behind(c.ev.add(event{run: install, w: w, r: r, size: size}))
	}
	return nil
}

// behind returns err if it is a *queueFull (the queue closed is not an
// error of the connection: Close ends it).
func behind(err error) error {
	if errors.Is(err, ErrQueueFull) {
		return err
	}
	return nil
}

// splitFrame splits a binary frame into its messages.
func splitFrame(typ websocket.MessageType, b []byte) ([][]byte, error) {
	if typ != websocket.MessageBinary {
		return nil, errors.New("keel: client: a text frame on a binary connection")
	}
	var out [][]byte
	r := codec.NewReader(b)
	for r.Offset() < len(b) {
		m := r.Bytes(true)
		if r.Failed() || len(m) == 0 {
			return nil, fmt.Errorf("keel: client: malformed frame: %v", r.Err())
		}
		out = append(out, m)
	}
	return out, nil
}

// protocolBinary is the subprotocol of the binary encoding,
// statusInvalidToken the close status of a refused token and
// statusConnectRefused that of a connect reducer that failed (package
// server's ProtocolBinary, StatusInvalidToken and StatusConnectRefused).
const (
	protocolBinary                            = "keel.bin.v1"
	statusInvalidToken   websocket.StatusCode = 4001
	statusConnectRefused websocket.StatusCode = 4002
)

// The binary protocol's message tags (see package server).
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

// queryError reads the error fields of SubscriptionError and a failed
// OneOffQueryResult.
func queryError(req string, d *codec.Reader) error {
	msg := d.Text()
	off, line, col := d.Varint(), d.Varint(), d.Varint()
	return &RemoteError{Request: req, Msg: msg, Offset: int(off), Line: int(line), Column: int(col)}
}

// SubmitAll sends calls in order, as one frame when the writer is not
// busy, and returns how many were sent (a keel.Batch's Conn).
func (c *Conn) SubmitAll(calls []*keel.Call) (int, error) {
	for i, call := range calls {
		if err := c.Submit(call); err != nil {
			return i, err
		}
	}
	return len(calls), nil
}
