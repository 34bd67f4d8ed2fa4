//go:build race

package wal_test

// raceEnabled reports that the tests run under the race detector, which
// makes the million-row tests too slow: they run on fewer rows.
const raceEnabled = true
