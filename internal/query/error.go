package query

import (
	"fmt"
	"strings"
)

// Error is a query that does not parse, names what does not exist or may
// not be read, or compares values of kinds that do not match. It points
// into the query text.
type Error struct {
	Offset int // byte offset in the query text
	Line   int // 1-based line
	Column int // 1-based column, counted in bytes
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("keel: query: %d:%d: %s", e.Line, e.Column, e.Msg)
}

// errorAt returns an *Error at byte offset off of text.
func errorAt(text string, off int, format string, args ...any) *Error {
	off = min(max(off, 0), len(text))
	line := 1 + strings.Count(text[:off], "\n")
	col := off - strings.LastIndexByte(text[:off], '\n')
	return &Error{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}
