package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
)

// Options configure a Server. The zero value of every field means its
// default.
type Options struct {
	// Logger receives connection errors; nil discards.
	Logger *slog.Logger
	// TokenKey signs and verifies the identity tokens this server issues
	// (HS256). nil makes a random key, so that tokens stop working when
	// the server restarts: set it (and keep it secret) for identities
	// that outlive the process. A key shorter than 32 bytes is refused
	// (RFC 7518 asks HS256 for a key at least as long as its hash): an
	// empty one, such as []byte of an unset variable, would let anyone
	// sign tokens.
	TokenKey []byte
	// Issuer is the iss claim of this server's tokens; "" means
	// "keel:" and the module's name.
	Issuer string
	// TokenTTL, when positive, makes this server's tokens expire that
	// long after they were issued (their iat), those issued before it
	// was set included; 0 issues tokens that do not expire, as
	// SpacetimeDB's.
	TokenTTL time.Duration
	// Issuers are the external identity providers whose tokens are
	// accepted too.
	Issuers []Issuer
	// MaxMessageBytes is the largest frame a client may send; a larger
	// one closes its connection with status 1009 (message too big). 0
	// means 1 MiB.
	MaxMessageBytes int64
	// MaxInFlight is how many requests one connection may have in
	// flight: reducer calls, and Subscribes whose initial rows are being
	// read (or that wait for the commit a join starts at). Reading its
	// next request waits while it has that many, so that one connection
	// never runs more reads of query sets' initial rows at once. A set
	// whose rows are read gives its room back while its SubscribeApplied
	// may still wait for the responses of earlier requests (responses go
	// out in request order): the rows it holds are not bounded by it
	// (see the package doc, "One evaluator, bounded queues"). 0 means
	// 1024.
	MaxInFlight int
	// MaxQueueBytes bounds the bytes of the messages one connection
	// holds: a message counts from when it is queued until the frame it
	// is in was written to the socket (the messages being written count
	// too), so a client that does not read them fast enough is
	// disconnected (status 1008) once a message would take them past
	// the bound, and never slows the database or other clients. It
	// bounds the backlog, not the size of one message: a message is
	// accepted, however large, when the connection holds nothing else,
	// and any message that comes before such a message is written
	// disconnects the client. A JSON connection's writer also holds the
	// frame it copies the messages into, at most 1 MiB or the one message
	// larger than that. 0 means 16 MiB.
	MaxQueueBytes int
	// OriginPatterns are the hosts, besides the request's own, whose pages
	// may connect (websocket.AcceptOptions.OriginPatterns).
	OriginPatterns []string
	// Clock gives tokens their times; nil is time.Now.
	Clock func() time.Time
}

// Server serves one database to clients over WebSocket. It is an
// http.Handler: mount it on a path of a net/http server. See the package
// documentation for the protocol.
type Server struct {
	db     *keel.DB
	sch    *schema
	opts   Options
	log    *slog.Logger
	tok    *tokens
	nextID atomic.Uint64

	ev *evaluator

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closing  bool
	done     sync.WaitGroup // connection handlers
	initJSON []byte         // InitialConnection's schema part, JSON

	obsMu      sync.Mutex
	registered bool // the evaluator's observer is registered (observe)
	observed   bool // and the commits before it are durable
}

// observe registers the evaluator's observer on the database the first
// time a client subscribes, so that a server without subscriptions costs
// the executor nothing per commit. Commits that ran before it reach no
// observer: a transaction that commits nothing, run after it, waits
// until they are durable (its outcome waits for everything it may have
// read), so that every view a subscription reads its initial rows from
// holds them. Until that transaction succeeds, each Subscribe tries
// again.
func (s *Server) observe() error {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	if s.observed {
		return nil
	}
	if !s.registered {
		s.db.Observe(keel.Observer{Committed: s.ev.committed, Durable: s.ev.durable})
		s.registered = true
	}
	if err := s.db.Update(context.Background(), "", func(*reducer.Ctx) error { return nil }); err != nil {
		return err
	}
	s.observed = true
	return nil
}

// ErrOptions matches New's error for an Options field that holds a
// value it cannot mean: a negative bound or duration, a short TokenKey,
// an Issuer without a name of its own or keys, or with a key of a type
// no JWT algorithm verifies with.
var ErrOptions = errors.New("keel: server: invalid options")

// check returns an error matching ErrOptions for a field that no value
// of its kind may hold.
func (o Options) check() error {
	if o.TokenKey != nil && len(o.TokenKey) < 32 {
		return kerr.Errorf("keel: server: Options.TokenKey has %d bytes, fewer than the 32 HS256 needs: %w", len(o.TokenKey), ErrOptions)
	}
	if o.TokenTTL < 0 {
		return kerr.Errorf("keel: server: Options.TokenTTL is %v, negative; 0 issues tokens that do not expire: %w", o.TokenTTL, ErrOptions)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"MaxMessageBytes", o.MaxMessageBytes}, {"MaxInFlight", int64(o.MaxInFlight)}, {"MaxQueueBytes", int64(o.MaxQueueBytes)}} {
		if f.v < 0 {
			return kerr.Errorf("keel: server: Options.%s is %d, negative; 0 means its default: %w", f.name, f.v, ErrOptions)
		}
	}
	return nil
}

// ErrShutdown is the error of the reducer calls and Subscribes of a
// frame whose handling began after Shutdown did but before the drain
// took its connection (the frames after that are not handled), and of
// a Subscribe after a Shutdown that gave up waiting.
var ErrShutdown = errors.New("keel: server: shutting down")

// New returns a server for db. It registers an observer on db to compute
// subscription updates, when the first client subscribes; a database
// serves at most one Server.
func New(db *keel.DB, opts Options) (*Server, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	sch, err := newSchema(db.Module())
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 1 << 20
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	if opts.MaxQueueBytes <= 0 {
		opts.MaxQueueBytes = 16 << 20
	}
	if opts.Issuer == "" {
		opts.Issuer = "keel:" + sch.module
	}
	key := opts.TokenKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	t := &tokens{issuer: opts.Issuer, key: key, ttl: opts.TokenTTL, clock: opts.Clock, issuers: map[string]Issuer{}}
	for _, is := range opts.Issuers {
		if is.Name == "" || is.Name == opts.Issuer || len(is.Keys) == 0 {
			return nil, kerr.Errorf("keel: server: issuer %q needs a name of its own and at least one key: %w", is.Name, ErrOptions)
		}
		if strings.IndexByte(is.Name, 0) >= 0 {
			// IdentityOf separates the issuer from the subject with a NUL.
			return nil, kerr.Errorf("keel: server: issuer %q: a name must not hold a NUL byte: %w", is.Name, ErrOptions)
		}
		for i, k := range is.Keys {
			switch k.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				return nil, kerr.Errorf("keel: server: issuer %q: key %d is a %T; want an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey: %w", is.Name, i, k, ErrOptions)
			}
		}
		t.issuers[is.Name] = is
	}
	s := &Server{db: db, sch: sch, opts: opts, log: opts.Logger, tok: t, conns: map[*conn]struct{}{}}
	s.initJSON = sch.appendJSON(nil)
	s.ev = newEvaluator(s)
	go s.ev.run()
	return s, nil
}

// ServeHTTP upgrades the request to a WebSocket connection and returns:
// goroutines of the server's own serve the connection until either side
// closes it (Shutdown waits for them), so that an open connection holds
// neither the request nor the goroutine of net/http that called it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "keel: server: shutting down", http.StatusServiceUnavailable)
		return
	}
	s.done.Add(1)
	s.mu.Unlock()
	served := false
	defer func() {
		if !served {
			s.done.Done()
		}
	}()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{ProtocolBinary, ProtocolJSON},
		OriginPatterns: s.opts.OriginPatterns,
	})
	if err != nil {
		s.log.Info("keel: server: websocket handshake", "err", err)
		return
	}
	ws.SetReadLimit(s.opts.MaxMessageBytes)
	e := enc{json: ws.Subprotocol() != ProtocolBinary}

	token := r.URL.Query().Get("token")
	// The scheme's name is matched without regard to case (RFC 9110,
	// 11.1): "bearer" too is a Bearer token, not a request for a new
	// identity.
	if h := r.Header.Get("Authorization"); len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
		token = strings.TrimSpace(h[len("Bearer "):])
	}
	var id reducer.Identity
	if token == "" {
		id, token, err = s.tok.issue()
	} else {
		id, err = s.tok.check(token)
	}
	if err != nil {
		ws.Close(StatusInvalidToken, closeReason(err.Error()))
		return
	}
	if d := s.db.Module().OnConnect; d != nil {
		if err := s.db.Do(&runtime.Call{Reducer: d, Caller: id, Body: lifecycle{d}}); err != nil {
			ws.Close(StatusConnectRefused, closeReason("connect reducer: "+err.Error()))
			return
		}
	}
	c := newConn(s, ws, e, id)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	closing := s.closing // Shutdown began while the connect reducer ran: it did not see c
	s.mu.Unlock()
	c.out.push(s.initialConnection(e, c, token))
	served = true
	go s.serve(c)
	if closing {
		go c.drain()
	}
}

// serve reads c's requests until it closes, then runs the disconnect
// reducer.
func (s *Server) serve(c *conn) {
	defer s.done.Done()
	id := c.identity
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if d := s.db.Module().OnDisconnect; d != nil {
		if err := s.db.Do(&runtime.Call{Reducer: d, Caller: id, Body: lifecycle{d}}); err != nil {
			s.log.Error("keel: server: disconnect reducer", "identity", id, "err", err)
		}
	}
}

// Close status codes of the protocol, besides WebSocket's own (1000
// normal, 1001 going away at shutdown, 1008 policy: the outbound queue
// overflowed, 1009 a frame too big).
const (
	StatusInvalidToken   websocket.StatusCode = 4001
	StatusConnectRefused websocket.StatusCode = 4002
)

// closeReason fits a reason into a close frame (123 bytes), cut at a
// character boundary: a reason must be UTF-8, and a browser fails a
// connection whose reason is not.
func closeReason(s string) string {
	if len(s) > 123 {
		n := 120
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return s
}

// lifecycle is the body of a connect or disconnect reducer call.
type lifecycle struct{ d *reducer.Def }

func (l lifecycle) Run(c *reducer.Ctx) error {
	_, err := l.d.CallEncoded(c, nil)
	return err
}

// Shutdown stops taking connections and requests, lets every reducer
// call in flight finish and the response of every request read reach
// its client, then closes every connection (status 1001) and waits for
// their handlers, or for ctx: if ctx ends first, it closes the
// connections at once, and a call in flight may have run without its
// result reaching the client. The requests of a frame that comes after
// its connection was drained do not run and get no response (the
// package documentation's Shutdown). The database stays open: close it
// after.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.drain()
	}
	done := make(chan struct{})
	go func() { s.done.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.ws.CloseNow()
		}
	}
	s.ev.stop()
	return err
}

// Stats are a server's counters.
type Stats struct {
	Connections   int
	Subscriptions int // query sets
	Queries       int // distinct queries evaluated per commit
}

// Stats returns the server's counters now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	qs, q := s.ev.counts()
	return Stats{Connections: n, Subscriptions: qs, Queries: q}
}
