package spec

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// classified is an error whose message is Docker's wording alone while
// errors.Is still finds its errdefs class (and its cause, when it has one).
type classified struct {
	msg   string
	class error
	cause error
}

func (e *classified) Error() string { return e.msg }

func (e *classified) Unwrap() []error {
	if e.cause == nil {
		return []error{e.class}
	}
	return []error{e.class, e.cause}
}

// invalidf reports bad input: errors.Is(err, errdefs.ErrInvalidArgument).
func invalidf(format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: errdefs.ErrInvalidArgument}
}

// invalidWrap is invalidf with a cause kept for errors.Is/As; the message
// should already include the cause's text.
func invalidWrap(cause error, format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: errdefs.ErrInvalidArgument, cause: cause}
}

// notImplementedf reports a valid request berth cannot serve yet.
func notImplementedf(format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: errdefs.ErrNotImplemented}
}
