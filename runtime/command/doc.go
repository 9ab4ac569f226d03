// Package command is berth-runtime's command line: runc's verbs, flags,
// output and exit codes, one file per verb over the container library, so
// that containerd's shim, conmon, go-runc and Podman can drive it.
//
// Flags follow runc's command line, which accepts -flag and --flag alike
// (the standard library's flag package does the same). Global flags come
// before the verb; a verb's flags may also follow its arguments, except
// for exec and ps, whose trailing words belong to the command.
package command
