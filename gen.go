package keel

// Generated-code versions: a file written by keelgen declares
//
//	const _ = keel.EnforceGenVersion(N-keel.MinGenVersion) + keel.EnforceGenVersion(keel.GenVersion-N)
//
// for its version N, so that it stops compiling against a Keel that does
// not run it (a negative constant does not convert to an unsigned type).
const (
	// GenVersion is the newest generated-code version this Keel runs.
	GenVersion = 2
	// MinGenVersion is the oldest generated-code version it still runs.
	MinGenVersion = 2
)

// EnforceGenVersion is the type of the generated-code version guard.
type EnforceGenVersion uint
