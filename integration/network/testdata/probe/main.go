// Command probe is the network tests' program inside containers: a TCP
// and UDP server that tells each client its hostname and the address the
// client came from, a client for it, and a name lookup through the
// container's resolv.conf. It is built static by the tests.
//
//	probe serve PORT...        answer on TCP and UDP PORT (every address)
//	probe dial tcp|udp ADDR    print the server's answer; exit 1 on none
//	probe lookup NAME          print NAME's addresses; exit 1 on none
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: probe serve PORT... | dial tcp|udp ADDR | lookup NAME")
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "dial":
		if len(os.Args) != 4 {
			fail("usage: probe dial tcp|udp ADDR")
		}
		dial(os.Args[2], os.Args[3])
	case "lookup":
		lookup(os.Args[2])
	default:
		fail("unknown command " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probe:", msg)
	os.Exit(1)
}

func answer(remote net.Addr) []byte {
	host, _ := os.Hostname()
	return []byte(fmt.Sprintf("%s FROM=%s\n", host, remote))
}

func serve(ports []string) {
	for _, p := range ports {
		l, err := net.Listen("tcp4", ":"+p)
		if err != nil {
			fail(err.Error())
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write(answer(c.RemoteAddr()))
				c.Close()
			}
		}()
		u, err := net.ListenPacket("udp4", ":"+p)
		if err != nil {
			fail(err.Error())
		}
		go func() {
			buf := make([]byte, 512)
			for {
				_, from, err := u.ReadFrom(buf)
				if err != nil {
					return
				}
				u.WriteTo(answer(from), from)
			}
		}()
	}
	select {}
}

func dial(proto, addr string) {
	buf := make([]byte, 512)
	switch proto {
	case "tcp":
		c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
		if err != nil {
			fail(err.Error())
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(buf[:n])
	case "udp":
		c, err := net.Dial("udp4", addr)
		if err != nil {
			fail(err.Error())
		}
		for range 3 {
			c.Write([]byte("?"))
			c.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := c.Read(buf); err == nil {
				os.Stdout.Write(buf[:n])
				return
			}
		}
		fail("no answer from udp " + addr)
	default:
		fail("unknown protocol " + proto)
	}
}

func lookup(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fail(err.Error())
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		fmt.Println(a)
	}
}
