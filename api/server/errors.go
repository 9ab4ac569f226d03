package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
)

// statusOf maps an error's errdefs class to the HTTP status dockerd
// answers it with. This is the one place that does.
func statusOf(err error) int {
	switch {
	case errdefs.IsNotModified(err):
		return http.StatusNotModified
	case errdefs.IsNotFound(err):
		return http.StatusNotFound
	case errdefs.IsInvalidArgument(err), errdefs.IsOutOfRange(err):
		return http.StatusBadRequest
	case errdefs.IsAlreadyExists(err), errdefs.IsConflict(err), errdefs.IsFailedPrecondition(err):
		return http.StatusConflict
	case errdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case errdefs.IsPermissionDenied(err):
		return http.StatusForbidden
	case errdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	case errdefs.IsUnavailable(err), errdefs.IsResourceExhausted(err):
		return http.StatusServiceUnavailable
	case errdefs.IsCanceled(err), errors.Is(err, context.Canceled):
		return 499 // the client went away; nobody reads this
	}
	return http.StatusInternalServerError
}

// apiError is an error with the message dockerd gives, keeping the class
// of the error it replaces for the status code.
type apiError struct {
	msg   string
	cause error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.cause }

// withMessage returns err answered with msg instead of its own text.
func withMessage(err error, msg string) error { return &apiError{msg: msg, cause: err} }

// errorf returns an error of class (an errdefs error) whose message is
// exactly the formatted text, as dockerd words it.
func errorf(class error, format string, args ...any) error {
	return &apiError{msg: fmt.Sprintf(format, args...), cause: class}
}

// errorResponse is the body of an error answer (common.ErrorResponse).
type errorResponse struct {
	Message string `json:"message"`
}

// writeError answers err: its status and {"message": ...}. A HEAD
// request gets the status only.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	log := loggerFrom(r.Context())
	if status >= 500 && status != http.StatusNotImplemented {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	} else {
		log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		writeJSONBody(w, errorResponse{Message: errorText(err)})
	}
}

// classes are the errdefs errors whose text ends a wrapped message
// (": not found"); the class is said by the status code, so the text
// goes.
var classes = []error{
	errdefs.ErrNotFound, errdefs.ErrInvalidArgument, errdefs.ErrAlreadyExists, errdefs.ErrFailedPrecondition,
	errdefs.ErrConflict, errdefs.ErrUnavailable, errdefs.ErrNotImplemented, errdefs.ErrUnauthenticated,
	errdefs.ErrPermissionDenied, errdefs.ErrDataLoss, errdefs.ErrResourceExhausted, errdefs.ErrInternal,
	errdefs.ErrUnknown, errdefs.ErrAborted, errdefs.ErrOutOfRange, errdefs.ErrNotModified,
}

// errorText is the text an API client gets for err.
func errorText(err error) string {
	msg := err.Error()
	var ae *apiError
	if errors.As(err, &ae) && ae == err {
		return msg
	}
	// Only the classes err really wraps: "permission denied" that is the
	// text of a runtime's message stays (clients read 126 from it).
	for _, c := range classes {
		if errors.Is(err, c) {
			msg = strings.TrimSuffix(msg, ": "+c.Error())
		}
	}
	return msg
}

type loggerKey struct{}

func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
