package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

var benchLayerOut = flag.String("write-bench-layer", "", "write the benchmark layer to this file (to time other unpackers on it)")

// benchLayer is a synthetic layer: 2000 small files (100 B to 8 KiB) in 40
// directories, a few symlinks and hard links, and 4 large files of 4 MiB.
func benchLayer(tb testing.TB) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	write := func(h *tar.Header, body []byte) {
		h.ModTime = epoch
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		tw.Write(body)
	}
	small := make([]byte, 8<<10)
	for i := range small {
		small[i] = byte(r.IntN(64) + ' ')
	}
	for d := range 40 {
		dir := fmt.Sprintf("usr/share/pkg%02d/", d)
		if d == 0 {
			write(&tar.Header{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755}, nil)
			write(&tar.Header{Typeflag: tar.TypeDir, Name: "usr/share/", Mode: 0o755}, nil)
		}
		write(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}, nil)
		for f := range 50 {
			body := small[:100+r.IntN(len(small)-100)]
			write(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sfile%02d.txt", dir, f), Mode: 0o644, Size: int64(len(body))}, body)
		}
		write(&tar.Header{Typeflag: tar.TypeSymlink, Name: dir + "link", Linkname: "file00.txt"}, nil)
		write(&tar.Header{Typeflag: tar.TypeLink, Name: dir + "hard", Linkname: dir + "file01.txt"}, nil)
	}
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	write(&tar.Header{Typeflag: tar.TypeDir, Name: "opt/", Mode: 0o755}, nil)
	for i := range 4 {
		write(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("opt/blob%d", i), Mode: 0o755, Size: int64(len(big))}, big)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkApply applies benchLayer into a fresh directory per iteration,
// on the filesystem of TMPDIR (say which in a report: inode creation costs
// differ a hundredfold between this machine's root ext4 and a fresh one).
func BenchmarkApply(b *testing.B) {
	data := benchLayer(b)
	if *benchLayerOut != "" {
		if err := os.WriteFile(*benchLayerOut, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []WhiteoutMode{Overlay, Delete} {
		b.Run(mode.String(), func(b *testing.B) {
			opts := baseOpts(mode)
			b.SetBytes(int64(len(data)))
			var entries int
			for b.Loop() {
				b.StopTimer()
				dir, err := os.MkdirTemp(b.TempDir(), "apply")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				stats, err := Apply(context.Background(), dir, bytes.NewReader(data), opts)
				if err != nil {
					b.Fatal(err)
				}
				entries = stats.Entries
			}
			b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkTar writes benchLayer's tree back as a tar stream.
func BenchmarkTar(b *testing.B) {
	data := benchLayer(b)
	dir := b.TempDir()
	if _, err := Apply(context.Background(), dir, bytes.NewReader(data), baseOpts(Delete)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Tar(context.Background(), io.Discard, dir); err != nil {
			b.Fatal(err)
		}
	}
}
