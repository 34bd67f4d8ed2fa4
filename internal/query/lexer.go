package query

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // text: the name; quoted: written in double quotes
	tKeyword         // text: upper case
	tInt             // text: as written, without a sign
	tFloat           // text: as written
	tString          // text: the content, '' undone
	tBytes           // text: the decoded bytes
	tOp              // = != <> < <= > >=
	tPunct           // , . * ( ) ; -
)

var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "JOIN": true, "INNER": true, "ON": true,
	"AS": true, "AND": true, "OR": true, "NOT": true, "TRUE": true, "FALSE": true, "LIMIT": true,
}

type token struct {
	kind   tokKind
	pos    int
	text   string
	quoted bool
}

// describe names t for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tIdent:
		return "identifier " + strconv.Quote(t.text)
	case tKeyword:
		return t.text
	case tInt, tFloat:
		return "number " + t.text
	case tString:
		return "string " + quoteString(t.text)
	case tBytes:
		return "bytes X'" + hex.EncodeToString([]byte(t.text)) + "'"
	}
	return strconv.Quote(t.text)
}

// lex splits text into tokens, ending with tEOF. Comments run from -- to
// the end of the line.
func lex(text string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(text) {
			if c := text[i]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
			} else if strings.HasPrefix(text[i:], "--") {
				for i < len(text) && text[i] != '\n' {
					i++
				}
			} else {
				break
			}
		}
		if i == len(text) {
			return append(toks, token{kind: tEOF, pos: i}), nil
		}
		start, c := i, text[i]
		switch {
		case (c == 'x' || c == 'X') && i+1 < len(text) && text[i+1] == '\'':
			s, n, err := lexQuoted(text, i+1, '\'')
			if err != nil {
				return nil, err
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, errorAt(text, start, "bytes literal X'%s' is not an even number of hex digits", s)
			}
			toks = append(toks, token{kind: tBytes, pos: start, text: string(b)})
			i = n
		case isIdentStart(text[i:]):
			for i < len(text) && isIdentPart(text[i:]) {
				_, n := utf8.DecodeRuneInString(text[i:])
				i += n
			}
			word := text[start:i]
			if up := strings.ToUpper(word); keywords[up] {
				toks = append(toks, token{kind: tKeyword, pos: start, text: up})
			} else {
				toks = append(toks, token{kind: tIdent, pos: start, text: word})
			}
		case c == '"':
			s, n, err := lexQuoted(text, i, '"')
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, errorAt(text, start, "empty quoted identifier")
			}
			toks = append(toks, token{kind: tIdent, pos: start, text: s, quoted: true})
			i = n
		case c == '\'':
			s, n, err := lexQuoted(text, i, '\'')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, pos: start, text: s})
			i = n
		case c >= '0' && c <= '9', c == '.' && i+1 < len(text) && isDigit(text[i+1]):
			t, err := lexNumber(text, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += len(t.text)
		default:
			op := ""
			for _, o := range []string{"<=", ">=", "<>", "!=", "=", "<", ">"} {
				if strings.HasPrefix(text[i:], o) {
					op = o
					break
				}
			}
			if op != "" {
				toks = append(toks, token{kind: tOp, pos: start, text: op})
				i += len(op)
				continue
			}
			if strings.IndexByte(",.*();-", c) < 0 {
				r, _ := utf8.DecodeRuneInString(text[i:])
				return nil, errorAt(text, start, "unexpected character %q", r)
			}
			toks = append(toks, token{kind: tPunct, pos: start, text: text[i : i+1]})
			i++
		}
	}
}

// lexQuoted reads a string quoted with q starting at text[i], a doubled q
// standing for one; it returns the content and the offset after it.
func lexQuoted(text string, i int, q byte) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(text); j++ {
		if text[j] != q {
			b.WriteByte(text[j])
			continue
		}
		if j+1 < len(text) && text[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j + 1, nil
	}
	what := "string"
	if q == '"' {
		what = "quoted identifier"
	}
	return "", 0, errorAt(text, i, "unterminated %s", what)
}

// lexNumber reads a decimal or 0x hex integer, or a float with a fraction
// or an exponent.
func lexNumber(text string, i int) (token, error) {
	start := i
	kind := tInt
	if strings.HasPrefix(text[i:], "0x") || strings.HasPrefix(text[i:], "0X") {
		i += 2
		for i < len(text) && isHex(text[i]) {
			i++
		}
		if i == start+2 {
			return token{}, errorAt(text, start, "hex literal without digits")
		}
	} else {
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		if i < len(text) && text[i] == '.' {
			kind = tFloat
			for i++; i < len(text) && isDigit(text[i]); i++ {
			}
		}
		if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
			kind = tFloat
			i++
			if i < len(text) && (text[i] == '+' || text[i] == '-') {
				i++
			}
			d := i
			for i < len(text) && isDigit(text[i]) {
				i++
			}
			if i == d {
				return token{}, errorAt(text, start, "number %s has no exponent digits", text[start:i])
			}
		}
	}
	if i < len(text) && (isIdentPart(text[i:]) || text[i] == '.') {
		return token{}, errorAt(text, start, "malformed number %s", text[start:i+1])
	}
	return token{kind: kind, pos: start, text: text[start:i]}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isIdentStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

func isIdentPart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// quoteString writes s as an SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent writes name bare when it lexes back as the same identifier,
// and in double quotes otherwise.
func quoteIdent(name string) string {
	bare := name != "" && isIdentStart(name) && !keywords[strings.ToUpper(name)]
	for i := 0; bare && i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		bare = r != utf8.RuneError && isIdentPart(name[i:])
		i += n
	}
	if bare {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
