package codec

import "time"

// The Norm functions give a value the form it reads back in after being
// encoded and decoded, so that a row stored in memory reads the same as
// after a restart; generated Normalize functions call them.

// NormTime returns t as Time reads it back: UTC, without the location or
// the monotonic reading.
func NormTime(t time.Time) time.Time { return time.Unix(t.Unix(), int64(t.Nanosecond())).UTC() }

// NormBytes returns nil for an empty b, and otherwise a copy of b, so
// that the stored row does not share the caller's memory.
func NormBytes[B ~[]byte](b B) B {
	if len(b) == 0 {
		return nil
	}
	return append(B(nil), b...)
}

// NormSlice returns nil for an empty s, and otherwise a copy of s.
func NormSlice[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return append(S(nil), s...)
}
