package kerr

import "runtime"

// Stack returns the calling goroutine's stack, as runtime/debug.Stack
// gives it (which would bring os and fmt into a module's build), for the
// Stack of a reducer's PanicError.
func Stack() []byte {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
