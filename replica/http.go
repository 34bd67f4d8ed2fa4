package replica

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
)

// The HTTP API a node serves (Handler), besides raft's /raft:
//
//	POST /call/{reducer}   body: encoded arguments (reducer.Def.CallEncoded); header X-Keel-Caller
//	                       200: the encoded result
//	                       421: the call did not run: the node does not take calls. Either it is
//	                            not the leader (X-Keel-Leader and X-Keel-Leader-Addr name the
//	                            leader, 0 and "" while none is known), or it takes none at all:
//	                            removed from the cluster, closed, or failed (no leader named).
//	                            Another node may take the call.
//	                       503 with X-Keel-Outcome: not-run: the call did not run, and this node
//	                            may take it later: its queue was full (FailFast), or the call's
//	                            time ran out while it waited to run. Send it again after a pause.
//	                       503 with X-Keel-Outcome: unknown: ErrOutcomeUnknown: the call ran and
//	                            its commit may or may not be committed.
//	                       409: the reducer returned an error (the call ran and rolled back); the
//	                            body says which
//	                       404: no such reducer
//	GET  /status           the node's Status as JSON
//	GET  /stats            the node's Stats (its write pipeline's counters) as JSON
//	POST /members?id=&addr=    add a member; DELETE /members?id=  remove one (leader only)
//
// Clients (Client) follow X-Keel-Leader-Addr to the leader.

// Handler serves the node's HTTP API and, at /raft, the transport's
// messages when it is an *HTTPTransport.
func Handler(n *Node) http.Handler {
	mux := http.NewServeMux()
	if t, ok := n.tr.(*HTTPTransport); ok {
		mux.Handle("/raft", t.Handler())
	}
	mux.HandleFunc("POST /call/{name}", func(w http.ResponseWriter, r *http.Request) {
		args, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		res, err := n.CallEncoded(ctx, reducer.Identity(r.Header.Get("X-Keel-Caller")), r.PathValue("name"), args)
		if err != nil {
			writeErr(w, n, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(res)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(n.Status())
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(n.Stats())
	})
	mux.HandleFunc("/members", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.URL.Query().Get("id"), 10, 64)
		if err != nil || id == 0 {
			http.Error(w, "id: a node id", http.StatusBadRequest)
			return
		}
		switch r.Method {
		case http.MethodPost:
			err = n.AddMember(r.Context(), id, r.URL.Query().Get("addr"))
		case http.MethodDelete:
			err = n.RemoveMember(r.Context(), id)
		default:
			http.Error(w, "POST or DELETE", http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			writeErr(w, n, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// writeErr answers with the status that says what became of a call that
// failed with err on node n. The errors are told apart by what they wrap,
// in the order of the cases: a call whose commit may have reached raft
// fails with ErrOutcomeUnknown, whatever else its error says; the node's
// refusals (Node.check, and the runtime's once the node stopped taking
// calls) mean it did not run; so does a full queue (a *QueueFullError)
// and a context that ended while the call waited to run, since the
// runtime gives up on a call's context only before the call runs. A
// reducer the module lacks is 404. Any other error is the reducer's: the
// call ran and rolled back.
func writeErr(w http.ResponseWriter, n *Node, err error) {
	var nle *NotLeaderError
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		w.Header().Set("X-Keel-Outcome", "unknown")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.As(err, &nle):
		w.Header().Set("X-Keel-Leader", strconv.FormatUint(nle.Leader, 10))
		w.Header().Set("X-Keel-Leader-Addr", nle.Addr)
		http.Error(w, err.Error(), http.StatusMisdirectedRequest)
	case n.refused(err):
		http.Error(w, err.Error(), http.StatusMisdirectedRequest)
	case errors.Is(err, runtime.ErrQueueFull), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		w.Header().Set("X-Keel-Outcome", "not-run")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, reducer.ErrUnknownReducer):
		http.Error(w, err.Error(), http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusConflict)
	}
}
