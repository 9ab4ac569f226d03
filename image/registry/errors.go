package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// classError gives an error an errdefs class without changing its text.
type classError struct {
	err, class error
}

func (e *classError) Error() string   { return e.err.Error() }
func (e *classError) Unwrap() []error { return []error{e.err, e.class} }

func withClass(err, class error) error {
	if err == nil || class == nil || errors.Is(err, class) {
		return err
	}
	return &classError{err: err, class: class}
}

func invalid(err error) error { return withClass(err, errdefs.ErrInvalidArgument) }

// hasClass reports whether err already carries a class.
func hasClass(err error) bool {
	for _, c := range [...]error{
		errdefs.ErrNotFound, errdefs.ErrUnauthenticated, errdefs.ErrPermissionDenied,
		errdefs.ErrInvalidArgument, errdefs.ErrUnavailable, errdefs.ErrResourceExhausted,
		errdefs.ErrDataLoss, errdefs.ErrNotImplemented, errdefs.ErrFailedPrecondition,
		errdefs.ErrAlreadyExists, errdefs.ErrConflict, errdefs.ErrOutOfRange, errdefs.ErrUnknown,
		context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// classify gives err a class from the registry's (or token server's)
// answer or from the kind of network failure, unless it has one.
func classify(err error) error {
	if err == nil || hasClass(err) {
		return err
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return withClass(err, statusClass(terr))
	}
	if transient(err) || errors.Is(err, syscall.ECONNREFUSED) {
		return withClass(err, errdefs.ErrUnavailable)
	}
	return err
}

// statusClass maps a registry's error answer to an errdefs class: the
// distribution spec's error codes first, the HTTP status otherwise.
func statusClass(e *transport.Error) error {
	for _, d := range e.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode, transport.NameUnknownErrorCode:
			return errdefs.ErrNotFound
		case transport.UnauthorizedErrorCode:
			return errdefs.ErrUnauthenticated
		case transport.DeniedErrorCode:
			return errdefs.ErrPermissionDenied
		case transport.TooManyRequestsErrorCode:
			return errdefs.ErrResourceExhausted
		case transport.UnsupportedErrorCode:
			return errdefs.ErrNotImplemented
		}
	}
	switch s := e.StatusCode; {
	case s == http.StatusNotFound:
		return errdefs.ErrNotFound
	case s == http.StatusUnauthorized:
		return errdefs.ErrUnauthenticated
	case s == http.StatusForbidden:
		return errdefs.ErrPermissionDenied
	case s == http.StatusTooManyRequests:
		return errdefs.ErrResourceExhausted
	case s == http.StatusMethodNotAllowed || s == http.StatusNotImplemented:
		return errdefs.ErrNotImplemented
	case s == http.StatusRequestedRangeNotSatisfiable:
		return errdefs.ErrOutOfRange
	case s == http.StatusConflict:
		return errdefs.ErrConflict
	case s >= 500 || s == http.StatusRequestTimeout:
		return errdefs.ErrUnavailable
	case s >= 400:
		return errdefs.ErrInvalidArgument
	}
	return errdefs.ErrUnknown
}

// checkStatus returns nil when resp's status is one of ok, and otherwise
// reads the registry's error body (bounded) into a classified error.
// The body is left for the caller to close.
func checkStatus(resp *http.Response, ok ...int) error {
	if err := transport.CheckError(resp, ok...); err != nil {
		return classify(err)
	}
	return nil
}

// errTruncated marks a body that ended before its size.
var errTruncated = errors.New("body ended early")

// transient reports whether an error may go away when the request is
// repeated: connection resets, bodies cut short, timeouts, 408, 429, 5xx.
// A refused connection is not: nothing listens there, and mirrors must be
// skipped quickly.
func transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, syscall.ECONNREFUSED):
		return false
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, errTruncated),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return true
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
