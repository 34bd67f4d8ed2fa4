package keel

import "github.com/keeldb/keel/mod"

// Generated-code versions: a file written by keelgen declares
//
//	const _ = mod.EnforceGenVersion(N-mod.MinGenVersion) + mod.EnforceGenVersion(mod.GenVersion-N)
//
// for its version N (package mod holds what generated code refers to), so
// that it stops compiling against a Keel that does not run it (a negative
// constant does not convert to an unsigned type).
const (
	// GenVersion is the newest generated-code version this Keel runs.
	GenVersion = mod.GenVersion
	// MinGenVersion is the oldest generated-code version it still runs.
	MinGenVersion = mod.MinGenVersion
)

// EnforceGenVersion is the type of the generated-code version guard.
type EnforceGenVersion = mod.EnforceGenVersion
