package runtime

// Generated code checks at compile time that it fits this runtime, as
// protobuf-go's protoimpl.EnforceVersion does. A file generated for
// version N declares
//
//	const _ = runtime.EnforceGenVersion(N - runtime.MinGenVersion)
//	const _ = runtime.EnforceGenVersion(runtime.GenVersion - N)
//
// and a negative constant does not convert to the unsigned type: the build
// stops at that line, which says to regenerate or to update Keel.
const (
	// GenVersion is the newest generated-code version this runtime runs.
	GenVersion = 1
	// MinGenVersion is the oldest generated-code version it still runs.
	MinGenVersion = 1
)

// EnforceGenVersion is the type of the generated-code version guard.
type EnforceGenVersion uint
