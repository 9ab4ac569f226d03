package container

import "fmt"

// classError carries an errdefs class (not found, already exists, …) for
// errors.Is without adding the class's words to the message.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// classf formats a message and tags it with an errdefs class.
func classf(class error, format string, args ...any) error {
	return &classError{msg: fmt.Sprintf(format, args...), class: class}
}
