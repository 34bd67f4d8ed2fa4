// Package replica runs a Keel database replicated on go.etcd.io/raft/v3:
// a Node is one member, the module's tables and executor (package
// runtime) on a raft node whose log is the node's own Keel log. Reducers
// run on the leader only; followers apply the committed entries through
// the log's replay path and never run reducer code.
//
// It owns the raft loop, the raft Storage over Keel's log, the
// transports (HTTP, and in memory for tests) and reads (ReadIndex). It
// does not own the log's format (package wal: wal.RaftLog), the executor
// (package runtime), nor a client protocol: a Node is a keel.Conn, and
// Handler serves calls over HTTP for the cluster example.
//
// # Write path
//
//	call --> leader's executor: run, commit, encode the Keel record --> commitLog: the open group's entry
//	         (index = raft index of that entry, shared by the group's commits)
//	     --> raft loop: one MsgProp of every entry queued --> raft appends, sends MsgApp to followers
//	     --> every member's log writer writes the entries to its Keel log and fsyncs
//	         (one fsync for all that queued while the last one ran)
//	     --> quorum: raft commits --> leader releases: views, listeners, the calls return
//	                              --> followers replay the records into their tables
//
// The raft loop never waits for an fsync: it runs raft with
// asynchronous storage writes (raft.Config.AsyncStorageWrites), handing
// the entries and hard states to write to a writer goroutine, whose
// answers (this node's own acknowledgement, and a follower's to the
// leader) go out only once the writes are durable. While one group of
// entries is written, the loop goes on proposing, sending and counting
// acknowledgements. Raft's messages travel on one long HTTP POST per
// peer (HTTPTransport), so that no message waits for an answer to the
// ones before it.
//
// The leader executes ahead of commit: while one group of entries is
// being replicated and fsynced, the next group runs. Every entry the
// leader appends goes through its commitLog in order (configuration
// changes too), so the index Append hands the runtime is the raft index
// the entry gets; the runtime's "durable through" is raft's commit
// index. The commits that run between two proposals share one entry (a
// wal.Group, closed at 256 KiB), so raft's work per entry (its
// messages' encoding and decoding, the log's framing and checksum, the
// followers' checks) is paid once per group: with thousands of calls in
// flight, a proposal is a few entries, not thousands.
//
// A follower's raft loop hands the committed records to an applier
// goroutine, which replays them into the tables in order while the loop
// goes on writing the next entries; a node that wins an election waits
// for its applier to apply everything before it takes calls.
//
// # Leadership
//
// A node takes calls only once it leads and has applied its whole log
// (raft commits the entries of earlier terms with the leader's first
// entry), so a new leader's state holds every committed transaction,
// and its sequences resume past every boundary a committed record
// persisted: sequence boundary moves travel in the records. When a
// leader loses leadership (an election it saw, raft's CheckQuorum, a
// proposal refused: raft never forwards a proposal to another leader,
// whose log must not get commits run against this node's state),
// runtime.Follow takes back every commit not yet
// committed, newest first, and fails their calls with ErrOutcomeUnknown:
// those entries may still be committed by the next leader (the node then
// applies them like any other), or be truncated away. No view or
// listener saw them: both show released (committed) state only. The
// sequences go back to their last committed boundaries, so a value below
// an unpersisted boundary is never handed out without a boundary move.
//
// # Scheduled reducers
//
// The module's schedule tables (//keel:table schedule=REDUCER) run on
// the leader only. Its scheduled calls are ordinary calls: they run in
// the leader's executor and their commits go through raft like any
// other, so the rows they take off or move on, and their effects, reach
// every node. A follower's scheduler runs nothing: it waits until the
// node leads (no retries, no error lines; a wait set before the node
// stopped leading that ends meanwhile finds it following again, and logs
// so at Info). A node that becomes leader
// (after a failover, say) runs the rows due as the applied log leaves
// them, once it has applied its whole log: a one-time row whose time
// passed while no node led runs once, and a repeating row's times missed
// meanwhile run once, as after a restart. A scheduled call whose outcome
// was unknown when its leader stepped down runs again only if its entry
// was not committed: raft's committed log holds at most one of the two.
// Config.After is the scheduler's wait and Config.Clock its time (and
// every transaction's, as in keel.Options).
//
// # Reads
//
// View is linearizable: raft's ReadIndex, on the leader or a follower,
// then a wait until the node applied that index. StaleView reads the
// node's own state; its staleness bound is documented there. Calls sent
// to a follower are refused with a *NotLeaderError naming the leader and
// its address; they are not forwarded.
//
// # Storage
//
// See wal.RaftLog for the data directory: Keel's log segments hold the
// entries (a Keel record of a commit, or of a group of commits), a side
// file of term boundaries their terms, a two-slot file raft's hard state, and
// snapshots are Keel snapshots with a small file of raft metadata. A
// follower that fell behind the leader's retained log receives the
// leader's newest Keel snapshot in raft's MsgSnap, behind the members'
// addresses at its entry, so that a node joining after the log that added
// a member was compacted still learns where that member listens.
//
// A replicated directory does not migrate: every record carries the
// fingerprint of the schema that wrote it, and a node applies only
// records of its own module's, so Open refuses a module whose schema is
// not the directory's, one that only puts tables, a table's indexes or
// its sequences in another order too, with a *wal.SchemaChangeError
// naming the first difference (errors.Is wal.ErrSchemaChanged), and
// leaves the directory as it was. There is no way yet to change a
// cluster's schema.
//
// # Status
//
// Node.Status, and GET /status of Handler, say a node's role, term,
// leader, commit and applied index, log bounds and members; `keel
// cluster status URL...` prints them for each node, and examples/cluster
// runs three nodes in three processes through the kill of the leader.
package replica
