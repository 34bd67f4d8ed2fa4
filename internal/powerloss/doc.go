// Package powerloss holds Keel's power-loss crash tests (issue 13). It has
// no code of its own: the tests mount an internal/lazyfs filesystem, run a
// writer in a child process (the test binary run again, chosen by an
// environment variable) whose data directory is on the mount, kill it with
// SIGKILL, cut the power (lazyfs throws away every write and directory
// change that was not fsynced, optionally tearing the last write at 512 or
// 4096 bytes), remount, reopen with keel.Open and check the database
// against the ledger the child printed:
//
//	parent (FUSE server, checker)                child (keel.Open on the mount)
//	  Mount ──────────────────────────────────▶  "R"            opened
//	                                             "B 3 insert k"  before each call
//	                                             "A 3 insert k .." after each acknowledged one
//	  SIGKILL, Cut, Unmount, Mount, keel.Open, check
//
// Under SyncAlways nothing acknowledged may be lost; under SyncInterval
// and SyncNever losses are measured. Under every policy the database must
// open, pass DB.Check, hold only rows of calls that began, hold what it
// holds as a prefix of the commit order, and never hand out an autoinc
// value again that a surviving commit used.
//
// Files: ledger_test.go parses the child's output; workload_test.go is the
// writer child; model_test.go and check_test.go compare a reopened
// database with the ledger; harness_test.go mounts, runs, kills and cuts;
// powerloss_test.go runs the seeded rounds and prints the figures;
// regress_test.go repeats the seeds of fixed bugs. cases_test.go cuts the
// power before each fsync of one operation at a time (first open,
// snapshots with pruning, rotation, preallocation and trimming), and
// repair_test.go before each fsync of an open that repairs a torn tail;
// tracer_linux_amd64_test.go is the ptrace tracer that kills a child as it
// enters its k-th fsync. Run
//
//	go test ./internal/powerloss/ -run TestPowerLoss -v -powerloss.rounds=1000
//
// for the acceptance run; -powerloss.seed repeats a run. The tests skip
// where FUSE cannot mount (lazyfs.Require).
package powerloss
