package sigma

import (
	"errors"
	"fmt"
)

// Error says what is wrong with a rule file and where.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ErrUnsupported marks a construct that is valid Sigma (or an older dialect
// of it) but that Harrier does not evaluate; errors.Is finds it.
var ErrUnsupported = errors.New("unsupported")

type unsupportedError struct{ e *Error }

func (u unsupportedError) Error() string { return u.e.Error() }
func (u unsupportedError) Unwrap() error { return ErrUnsupported }

// Where returns the location of an unsupported construct.
func (u unsupportedError) Where() *Error { return u.e }
