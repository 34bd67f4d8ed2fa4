package lazyfs

import "testing"

// Require skips the test t, saying what is missing, when Available reports that a mount cannot work here.
func Require(t testing.TB) {
	t.Helper()
	require(t, Available)
}

// require is Require with the check injected, so that its skip can be tested on a machine where FUSE works.
func require(t testing.TB, available func() error) {
	t.Helper()
	if err := available(); err != nil {
		t.Skip(err)
	}
}
