package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
)

// SocketListener is a unix socket berthd serves on. Close removes the
// socket file.
type SocketListener struct {
	*net.UnixListener
	path string
}

// Close stops listening and removes the socket.
func (l *SocketListener) Close() error {
	err := l.UnixListener.Close()
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// ListenUnix creates the unix socket at path, mode 0660, owned by root
// and group (root's group when group does not exist). The socket's
// directory is created (0711: group members can reach the socket by name
// but not list the directory). A socket left by a berthd that is gone is
// replaced; one another process still serves is not.
func ListenUnix(path, group string) (*SocketListener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, fmt.Errorf("create socket directory %s: %w", dir, err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	gid := 0
	if group != "" {
		if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	// Bind a temporary name, set owner and mode, then rename into place:
	// no client ever sees the socket with the umask's mode.
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", filepath.Base(path), os.Getpid()))
	os.Remove(tmp)
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (*SocketListener, error) {
		ul.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Chown(tmp, 0, gid); err != nil {
		return fail(fmt.Errorf("chown socket %s: %w", path, err))
	}
	if err := os.Chmod(tmp, 0o660); err != nil {
		return fail(fmt.Errorf("chmod socket %s: %w", path, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("place socket %s: %w", path, err))
	}
	return &SocketListener{UnixListener: ul, path: path}, nil
}

// removeStale removes a socket nobody serves. A socket someone answers
// on means another daemon: refuse. Anything that is not a socket is left
// alone: refuse too.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket: %w", path, errdefs.ErrAlreadyExists)
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("another daemon is serving %s: %w", path, errdefs.ErrAlreadyExists)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// TLSFiles are the files of a TLS listener.
type TLSFiles struct {
	CA, Cert, Key string
}

// ListenTLS listens on a TCP address with TLS that requires client
// certificates signed by files.CA: whoever can reach berthd's API is
// root on the host, so nothing less is offered.
func ListenTLS(addr string, files TLSFiles) (net.Listener, error) {
	if files.CA == "" || files.Cert == "" || files.Key == "" {
		return nil, fmt.Errorf("listen on tcp://%s: TLS needs a CA, a certificate and a key: %w", addr, errdefs.ErrInvalidArgument)
	}
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s: %w", files.Cert, err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		return nil, fmt.Errorf("read CA %s: %w", files.CA, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("CA %s holds no PEM certificate: %w", files.CA, errdefs.ErrInvalidArgument)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on tcp://%s: %w", addr, err)
	}
	return tls.NewListener(l, cfg), nil
}
