package wal_test

import (
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"syscall"
	"testing"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// newMod builds the test module with a small sequence batch, so boundary
// moves happen often.
func newMod() *testmod.Module { return testmod.New(table.SeqParams[uint64]{Batch: 4}) }

// open opens dir for the test module m.
func open(dir string, m *testmod.Module, o keel.Options) (*keel.DB, error) {
	return keel.Open(dir, keeltest.Module(m), o)
}

// openErr opens dir for the test module m and returns the error; an open
// that succeeds is closed at once.
func openErr(dir string, m *testmod.Module, o keel.Options) error {
	db, err := open(dir, m, o)
	if err == nil {
		if cerr := db.Close(); cerr != nil {
			return errors.Join(errors.New("the open succeeded"), cerr)
		}
	}
	return err
}

// testDB is a database of the test module open for one test, with the
// helpers the tests share. Its helpers fail the test they were opened for.
type testDB struct {
	*keel.DB
	m *testmod.Module
	t testing.TB
}

// mustOpen opens dir for a new test module. When the test ends it checks
// every index and closes the database (keeltest.Open).
func mustOpen(t testing.TB, dir string, o keel.Options) *testDB {
	t.Helper()
	return mustOpenMod(t, dir, newMod(), o)
}

// mustOpenMod is mustOpen for the test module m, to reopen a directory
// with the module instance whose reducers the test calls.
func mustOpenMod(t testing.TB, dir string, m *testmod.Module, o keel.Options) *testDB {
	t.Helper()
	return &testDB{DB: keeltest.Open(t, dir, keeltest.Module(m), o), m: m, t: t}
}

// check verifies that every index holds exactly the rows of its primary
// key.
func (d *testDB) check() {
	d.t.Helper()
	if err := d.Check(); err != nil {
		d.t.Errorf("check: %v", err)
	}
}

// mustClose checks and closes the database (keeltest.Close) and fails
// the test on an error.
func (d *testDB) mustClose() {
	d.t.Helper()
	if err := keeltest.Close(d.t, d.DB); err != nil {
		d.t.Fatalf("close: %v", err)
	}
}

// addPost runs AddPost for slug, with author "a-slug" and title "t-slug".
func (d *testDB) addPost(slug string) testmod.Post {
	d.t.Helper()
	p, err := keel.Run(d.t.Context(), d.DB, "test", d.m.AddPost,
		testmod.AddPostArgs{Slug: slug, Author: "a-" + slug, Title: "t-" + slug})
	if err != nil {
		d.t.Fatalf("AddPost %s: %v", slug, err)
	}
	return p
}

// posts returns the post table as postLine lines, sorted.
func (d *testDB) posts() []string {
	d.t.Helper()
	v, err := d.View(d.t.Context())
	if err != nil {
		d.t.Fatal(err)
	}
	var out []string
	for p := range table.Read(v, d.m.Post).All() {
		out = append(out, postLine(p))
	}
	sort.Strings(out)
	return out
}

// postLine is a post as "id slug author title".
func postLine(p testmod.Post) string {
	return fmt.Sprintf("%d %s %s %s", p.ID, p.Slug, p.Author, p.Title)
}

// killed returns nil when err, what a child's cmd.Wait returned, says
// SIGKILL ended the child, and otherwise an error: a child that exited
// or died of anything else before its kill did not run what its test
// checks.
func killed(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return nil
		}
		return fmt.Errorf("the child ended before its kill: %v", err)
	}
	if err == nil {
		return errors.New("the child exited with status 0 before its kill")
	}
	return fmt.Errorf("waiting for the child: %w", err)
}
