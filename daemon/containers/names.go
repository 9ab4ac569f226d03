package containers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/containerd/errdefs"
)

// shortLen is the length of a short ID, as docker prints it.
const shortLen = 12

// validID accepts what newID makes: 64 lower-case hex digits.
func validID(id string) bool {
	return len(id) == 64 && strings.Trim(id, "0123456789abcdef") == ""
}

// validName accepts Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
func validName(n string) bool {
	if len(n) < 2 || len(n) > 255 {
		return false
	}
	for i, r := range n {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || r != '_' && r != '.' && r != '-') {
			return false
		}
	}
	return true
}

// checkName takes the leading "/" off a requested name and validates it,
// with dockerd's message.
func checkName(raw string) (string, error) {
	n := strings.TrimPrefix(raw, "/")
	if !validName(n) {
		return "", errorf(errdefs.ErrInvalidArgument, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", raw)
	}
	return n, nil
}

// newID returns a random container ID. Like Docker's, its short form is
// never all digits (it would read as a number); taken reports short IDs
// in use, which the shim's state directory needs unique.
func newID(taken func(short string) bool) (string, error) {
	for range 100 {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generate container id: %w", err)
		}
		id := hex.EncodeToString(b[:])
		short := id[:shortLen]
		if strings.Trim(short, "0123456789") == "" || taken(short) {
			continue
		}
		return id, nil
	}
	return "", fmt.Errorf("generate container id: no free short id after 100 tries: %w", errdefs.ErrUnavailable)
}

// Words for generated names: adjective_surname, the surnames of people who
// shaped computing, mathematics and science.
var (
	adjectives = []string{
		"agile", "amber", "ardent", "bold", "brave", "bright", "brisk", "calm", "candid", "careful",
		"cheerful", "clever", "cosmic", "curious", "daring", "deft", "eager", "earnest", "epic", "fearless",
		"fervent", "festive", "fluent", "focused", "frank", "gallant", "gentle", "gifted", "glad", "golden",
		"gracious", "happy", "hardy", "hopeful", "humble", "jolly", "keen", "kind", "lively", "loyal",
		"lucid", "merry", "mighty", "modest", "nimble", "noble", "patient", "placid", "plucky", "polite",
		"proud", "quick", "quiet", "radiant", "rapid", "serene", "sharp", "shiny", "silent", "sincere",
		"smooth", "snappy", "solid", "spry", "stable", "steady", "stoic", "sturdy", "sunny", "swift",
		"tender", "tidy", "tranquil", "trusty", "upbeat", "valiant", "vibrant", "vivid", "warm", "wise",
		"witty", "zealous", "zesty",
	}
	surnames = []string{
		"agnesi", "allen", "babbage", "backus", "banach", "bardeen", "bell", "bohr", "boole", "borg",
		"cantor", "cerf", "church", "codd", "conway", "corbato", "curie", "darwin", "dijkstra", "euler",
		"faraday", "fermat", "feynman", "galois", "gauss", "goldberg", "hamilton", "hamming", "hilbert", "hoare",
		"hopper", "huffman", "jackson", "johnson", "kahan", "kepler", "kernighan", "knuth", "kolmogorov", "lamarr",
		"lamport", "leibniz", "liskov", "lovelace", "maxwell", "mccarthy", "meitner", "minsky", "moore", "napier",
		"neumann", "newton", "noether", "pascal", "perlman", "pike", "poincare", "ramanujan", "riemann", "ritchie",
		"shannon", "somerville", "stallman", "sutherland", "tarjan", "tesla", "thompson", "torvalds", "turing", "wirth",
		"yonath", "zuse",
	}
)

// randomName returns a generated name not in use; after many collisions
// it adds a number, as Docker does.
func randomName(inUse func(string) bool) (string, error) {
	pick := func(words []string) (string, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		if err != nil {
			return "", fmt.Errorf("generate container name: %w", err)
		}
		return words[n.Int64()], nil
	}
	for i := range 20 {
		a, err := pick(adjectives)
		if err != nil {
			return "", err
		}
		s, err := pick(surnames)
		if err != nil {
			return "", err
		}
		name := a + "_" + s
		if i >= 10 {
			name = fmt.Sprintf("%s%d", name, i)
		}
		if !inUse(name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("generate container name: every name tried is in use: %w", errdefs.ErrUnavailable)
}
