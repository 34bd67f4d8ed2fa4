package wal_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel"
	v1 "github.com/keeldb/keel/internal/migmod/v1"
	"github.com/keeldb/keel/internal/migmod/v2"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/wal"
)

var (
	migCrashRows   = flag.Int("migcrash.rows", 1_000_000, "posts of TestMigrateCrash")
	migCrashRounds = flag.Int("migcrash.rounds", 2, "rounds of TestMigrateCrash")
	migCrashSeed   = flag.Uint64("migcrash.seed", 0, "seed of TestMigrateCrash; 0 picks one")
)

// migCrashChanges is how many changes of version 1 follow its snapshot,
// so that the migration also reads the older schema's log.
const migCrashChanges = 3000

// TestMigrateCrashChild opens KEEL_MIGCRASH_DIR with version 2, which
// migrates it, prints "O" once the open returned, then inserts posts one
// transaction at a time, printing "A id slug" once each is durable, until
// it is killed.
func TestMigrateCrashChild(t *testing.T) {
	dir := os.Getenv("KEEL_MIGCRASH_DIR")
	if dir == "" {
		t.Skip("run by TestMigrateCrash")
	}
	db, err := keel.Open(dir, v2.Module, keel.Options{})
	if err != nil {
		fmt.Printf("E open: %v\n", err)
		os.Exit(3)
	}
	fmt.Println("O")
	for k := 0; ; k++ {
		slug := migCrashSlug(os.Getenv("KEEL_MIGCRASH_NAME"), k)
		var p v2.Post
		err := db.Update(t.Context(), "crash", func(c *reducer.Ctx) error {
			var err error
			p, err = v2.DBOf(c.Tx).Post().Insert(v2.Post{Slug: slug, Author: "crash", Title: "after", Score: 7})
			return err
		})
		if err != nil {
			fmt.Printf("E insert: %v\n", err)
			os.Exit(3)
		}
		fmt.Printf("A %d %s\n", p.ID, slug)
	}
}

// migCrashSlug is the slug of post k that child name inserts.
func migCrashSlug(name string, k int) string { return fmt.Sprintf("crash-%s-%d", name, k) }

// TestMigrateCrash kills migrations of a table of a million rows with
// SIGKILL at random moments, twice in a row on the same directory, and
// checks that the directory then opens either in the old schema, with
// exactly the old rows, or in the new one, with every old row migrated
// and every post a child acknowledged, each under an id that no post of
// version 1 had and no other post was acknowledged with, and nothing
// else but at most the one insert each child was killed in; never a mix.
// Half the kills fall
// near the end of the migration, where it commits (schema.json) and
// writes its snapshot: the kill times come from the time the test's own
// read of the old rows took (a plain open), times 1.6, since a migrating
// open in a child takes about that much longer, and once a child's open
// returned, from the time it took. Under the race detector it runs on
// 20,000 rows.
func TestMigrateCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows")
	}
	seed := *migCrashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	n := *migCrashRows
	if raceEnabled {
		n = min(n, 20_000)
	}
	t.Logf("seed %d (-migcrash.seed to repeat), %d posts, %d rounds", seed, n, *migCrashRounds)
	rng := rand.New(rand.NewPCG(seed, 0))
	pristine := filepath.Join(t.TempDir(), "v1")
	buildMigData(t, pristine, n, migCrashChanges)
	start := time.Now()
	model := migModel(t, pristine)
	full := time.Since(start) * 16 / 10
	outcomes := map[string]int{}
	var kills []string
	for round := range *migCrashRounds {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("round", round))
		copyDirTo(t, pristine, dir)
		acked := map[uint64]string{}
		inflight := map[string]bool{} // the slug each child was inserting when killed
		for c := range 2 {
			d := time.Duration(rng.Float64() * float64(full))
			if rng.IntN(2) == 0 {
				d = time.Duration((0.8 + 0.3*rng.Float64()) * float64(full))
			}
			name := fmt.Sprintf("r%dc%d", round, c)
			got, opened := runMigChild(t, dir, name, d)
			for id, s := range got {
				if prev, dup := acked[id]; dup {
					t.Fatalf("seed %d round %d: id %d acknowledged twice, for %s and %s", seed, round, id, prev, s)
				}
				acked[id] = s
			}
			if opened > 0 {
				inflight[migCrashSlug(name, len(got))] = true
				if c == 0 {
					full = opened // a migrating open in a child, under the load of the moment
				}
			}
			what := "during the open"
			if opened > 0 {
				what = fmt.Sprintf("%v after its open returned, %d posts acknowledged", d-opened, len(got))
			}
			kills = append(kills, fmt.Sprintf("%v (%s)", d.Round(time.Millisecond), what))
		}
		outcomes[verifyMigCrash(t, dir, model, acked, inflight, seed, round)]++
	}
	t.Logf("kills at %s; expected migration time at the end %v", strings.Join(kills, ", "), full)
	t.Logf("after the kills the directory was %v", outcomes)
}

// runMigChild runs TestMigrateCrashChild on dir and kills it with
// SIGKILL after delay. It returns the posts the child acknowledged and
// how long until its open returned (0 when it did not).
func runMigChild(t *testing.T, dir, name string, delay time.Duration) (map[uint64]string, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrateCrashChild$")
	cmd.Env = append(os.Environ(), "KEEL_MIGCRASH_DIR="+dir, "KEEL_MIGCRASH_NAME="+name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(delay, func() { cmd.Process.Kill() }) // SIGKILL
	defer timer.Stop()
	acked := map[uint64]string{}
	var opened time.Duration
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
		case f[0] == "O":
			opened = time.Since(start)
		case f[0] == "A" && len(f) == 3:
			id, _ := strconv.ParseUint(f[1], 10, 64)
			acked[id] = f[2]
		case f[0] == "E":
			t.Fatalf("child %s: %s", name, sc.Text())
		}
	}
	io.Copy(io.Discard, out)
	if err := killed(cmd.Wait()); err != nil {
		t.Fatalf("child %s: %v", name, err)
	}
	return acked, opened
}

// migModel reads the posts of version 1 in dir (read-only).
func migModel(t *testing.T, dir string) map[uint64]v1.Post {
	t.Helper()
	db, err := keel.Open(dir, v1.Module, keel.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint64]v1.Post{}
	for p := range v1.ViewOf(v).Post().All() {
		m[p.ID] = p
	}
	return m
}

// verifyMigCrash checks dir after the kills and returns which schema it
// was in: "old" (schema.json still version 1's: version 1 opens it and
// finds exactly its rows) or "new"; either way version 2 then opens it
// and finds every row migrated and every acknowledged post, under an id
// that no post of version 1 had. Each child may also have committed the
// insert it was killed in, unacknowledged: inflight holds their slugs.
func verifyMigCrash(t *testing.T, dir string, model map[uint64]v1.Post, acked map[uint64]string, inflight map[string]bool,
	seed uint64, round int) string {
	t.Helper()
	fail := func(f string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d round %d: %s", seed, round, fmt.Sprintf(f, args...))
	}
	b, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		fail("%v", err)
	}
	var s struct{ Fingerprint wal.Fingerprint }
	if err := json.Unmarshal(b, &s); err != nil {
		fail("schema.json: %v", err)
	}
	outcome := "new"
	if s.Fingerprint == migFingerprint(t, v1.Module) {
		outcome = "old"
		if len(acked) > 0 {
			fail("schema.json is version 1's, yet a child acknowledged %d posts of version 2", len(acked))
		}
		got := migModel(t, dir)
		if len(got) != len(model) {
			fail("version 1 finds %d posts, want %d", len(got), len(model))
		}
		for id, p := range model {
			if got[id] != p {
				fail("version 1 finds post %d as %+v, want %+v", id, got[id], p)
			}
		}
	} else if s.Fingerprint != migFingerprint(t, v2.Module) {
		fail("schema.json has fingerprint %s, neither version's", s.Fingerprint)
	}
	db, err := keel.Open(dir, v2.Module, keel.Options{})
	if err != nil {
		fail("version 2 does not open the directory: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		fail("%v", err)
	}
	v, err := db.View(t.Context())
	if err != nil {
		fail("%v", err)
	}
	var maxOld uint64
	for id := range model {
		maxOld = max(maxOld, id)
	}
	posts := v2.ViewOf(v).Post()
	var maxID uint64
	found, unacked := 0, 0
	for p := range posts.All() {
		maxID = max(maxID, p.ID)
		if slug, ok := acked[p.ID]; ok {
			if p != (v2.Post{ID: p.ID, Slug: slug, Author: "crash", Title: "after", Score: 7}) {
				fail("acknowledged post %d is %+v", p.ID, p)
			}
			if p.ID <= maxOld {
				fail("acknowledged post %s got id %d, which version 1 used (up to %d)", slug, p.ID, maxOld)
			}
			found++
			continue
		}
		if inflight[p.Slug] && p == (v2.Post{ID: p.ID, Slug: p.Slug, Author: "crash", Title: "after", Score: 7}) {
			unacked++ // in flight when its child was killed
			if p.ID <= maxOld {
				fail("unacknowledged post %s got id %d, which version 1 used (up to %d)", p.Slug, p.ID, maxOld)
			}
			continue
		}
		o, ok := model[p.ID]
		if !ok || p != (v2.Post{ID: o.ID, Slug: o.Slug, Author: o.Author, Title: o.Title, Score: 1}) {
			fail("post %d is %+v, version 1 had %+v", p.ID, p, o)
		}
	}
	if found != len(acked) || posts.Count() != len(model)+found+unacked {
		fail("version 2 finds %d posts: %d of the %d acknowledged, %d unacknowledged (of %d in flight), want %d of version 1",
			posts.Count(), found, len(acked), unacked, len(inflight), len(model))
	}
	// Every index holds every post (Check), and the slug index finds one.
	for id, o := range model {
		if p, ok := posts.BySlug().Find(o.Slug); !ok || p.ID != id {
			fail("BySlug(%s) = %+v, %t", o.Slug, p, ok)
		}
		break
	}
	// The sequence hands out an id no post had.
	var p v2.Post
	err = db.Update(t.Context(), "check", func(c *reducer.Ctx) error {
		var err error
		p, err = v2.DBOf(c.Tx).Post().Insert(v2.Post{Slug: "verify", Author: "v"})
		return err
	})
	if err != nil || p.ID <= maxID {
		fail("insert after the migration: id %d (the largest before is %d), %v", p.ID, maxID, err)
	}
	return outcome
}

func migFingerprint(t *testing.T, m *keel.Module) wal.Fingerprint {
	t.Helper()
	r, w := io.Pipe()
	go func() { w.CloseWithError(keel.WriteSchema(w, m, keel.Options{})) }()
	s, err := wal.ReadModuleSchema(r)
	if err != nil {
		t.Fatal(err)
	}
	return s.Fingerprint
}
