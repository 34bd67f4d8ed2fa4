// Package kerr formats Keel's error messages: one "keel: " at the front of
// a message, however many of the errors it wraps carry the prefix too.
//
// A Keel error wraps other Keel errors ("keel: replay ...: keel: persisted
// state does not fit the schema: keel: table post: ..."); each is a
// message of its own, with the prefix, when a program meets it alone.
// Errorf keeps the prefix at the front and drops it where a wrapped
// error's message is spliced in, so that a user reads "keel: replay ...:
// persisted state does not fit the schema: table post: ...".
//
// It also formats without fmt (Sprintf, Newf), for the packages a
// module's build compiles; see format.go.
package kerr

import "strings"

// Prefix begins every message of a Keel error.
const Prefix = "keel: "

// Errorf is fmt.Errorf for a message that begins with Prefix: the error
// wraps its %w operands as fmt.Errorf's does, so errors.Is and errors.As
// find them, and its message holds Prefix once, at the front. It formats
// with Sprintf's verbs.
func Errorf(format string, args ...any) error {
	var wrapped []error
	msg := string(appendf(nil, format, args, &wrapped))
	return newError(Trim(msg), wrapped)
}

// Trim returns msg with Prefix once at its front, if msg begins with it,
// and without the prefix where a wrapped message begins inside it: after
// ": ", "(", or a line break (errors.Join).
func Trim(msg string) string {
	rest, ok := strings.CutPrefix(msg, Prefix)
	if !ok {
		return msg
	}
	for {
		r, ok := strings.CutPrefix(rest, Prefix)
		if !ok {
			break
		}
		rest = r
	}
	if !strings.Contains(rest, Prefix) {
		return msg[len(msg)-len(rest)-len(Prefix):]
	}
	for _, at := range [...]string{": ", "(", "\n"} {
		for strings.Contains(rest, at+Prefix) {
			rest = strings.ReplaceAll(rest, at+Prefix, at)
		}
	}
	return Prefix + rest
}
