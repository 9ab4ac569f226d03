package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v1 blkio: blkio.weight and blkio.weight_device belong to the CFQ
// scheduler, removed in Linux 5.0; BFQ offers blkio.bfq.weight(_device) with
// the same range, used when the CFQ files are missing. Throttling is one
// "MAJ:MIN RATE" write per device to blkio.throttle.{read,write}_{bps,iops}_device.
//
// v2 io: io.bfq.weight takes the v1 weight as is; without BFQ, io.weight takes
// it converted to [1, 10000]. The four throttles merge into one io.max line
// per device, "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=..", 0 meaning "max".
// leafWeight (CFQ only) has no equivalent anywhere else and is ignored when
// the kernel has no CFQ.

func (m *manager) setBlockIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	if (b.Weight == nil || *b.Weight == 0) && (b.LeafWeight == nil || *b.LeafWeight == 0) &&
		len(b.WeightDevice) == 0 && len(b.ThrottleReadBpsDevice) == 0 && len(b.ThrottleWriteBpsDevice) == 0 &&
		len(b.ThrottleReadIOPSDevice) == 0 && len(b.ThrottleWriteIOPSDevice) == 0 {
		return nil
	}
	dir, v2, err := m.controller("blkio") // "io" on v2
	if err != nil {
		return err
	}
	if v2 {
		return unavailable("io", setIOV2(dir, b))
	}
	return setBlkioV1(dir, b)
}

func setBlkioV1(dir string, b *specs.LinuxBlockIO) error {
	if b.Weight != nil && *b.Weight != 0 {
		if err := writeEither(dir, "blkio.weight", "blkio.bfq.weight", utoa(uint64(*b.Weight))); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := skipMissing(writeFile(dir, "blkio.leaf_weight", utoa(uint64(*b.LeafWeight)))); err != nil {
			return err
		}
	}
	var weights, leaves []string
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			weights = append(weights, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight))
		}
		if d.LeafWeight != nil {
			leaves = append(leaves, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight))
		}
	}
	if len(weights) > 0 {
		err := writeLines(dir, "blkio.weight_device", weights)
		if notExist(err) {
			err = writeLines(dir, "blkio.bfq.weight_device", weights)
		}
		if err != nil {
			return err
		}
	}
	if err := skipMissing(writeLines(dir, "blkio.leaf_weight_device", leaves)); err != nil {
		return err
	}
	for _, t := range []struct {
		file string
		devs []specs.LinuxThrottleDevice
	}{
		{"blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		lines := make([]string, 0, len(t.devs))
		for _, d := range t.devs {
			lines = append(lines, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate))
		}
		if err := writeLines(dir, t.file, lines); err != nil {
			return err
		}
	}
	return nil
}

// writeEither writes file, or alt when file does not exist.
func writeEither(dir, file, alt, value string) error {
	err := writeFile(dir, file, value)
	if notExist(err) {
		err = writeFile(dir, alt, value)
	}
	return err
}

func setIOV2(dir string, b *specs.LinuxBlockIO) error {
	if b.Weight != nil && *b.Weight != 0 {
		err := writeFile(dir, "io.bfq.weight", utoa(uint64(*b.Weight)))
		if notExist(err) {
			err = writeFile(dir, "io.weight", utoa(ioWeight(*b.Weight)))
		}
		if err != nil {
			return err
		}
	}
	var bfq, cfq []string
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			bfq = append(bfq, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight))
			cfq = append(cfq, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, ioWeight(*d.Weight)))
		}
	}
	if len(bfq) > 0 {
		err := writeLines(dir, "io.bfq.weight", bfq)
		if notExist(err) {
			err = writeLines(dir, "io.weight", cfq)
		}
		if err != nil {
			return err
		}
	}
	return writeLines(dir, "io.max", ioMax(b))
}

// ioMax merges the four throttle lists into one io.max line per device, in
// the order devices first appear.
func ioMax(b *specs.LinuxBlockIO) []string {
	type dev struct{ major, minor int64 }
	var order []dev
	keys := make(map[dev]string)
	add := func(devs []specs.LinuxThrottleDevice, key string) {
		for _, d := range devs {
			k := dev{d.Major, d.Minor}
			if _, ok := keys[k]; !ok {
				order = append(order, k)
			}
			v := "max"
			if d.Rate != 0 {
				v = utoa(d.Rate)
			}
			keys[k] += " " + key + "=" + v
		}
	}
	add(b.ThrottleReadBpsDevice, "rbps")
	add(b.ThrottleWriteBpsDevice, "wbps")
	add(b.ThrottleReadIOPSDevice, "riops")
	add(b.ThrottleWriteIOPSDevice, "wiops")
	lines := make([]string, 0, len(order))
	for _, k := range order {
		lines = append(lines, fmt.Sprintf("%d:%d%s", k.major, k.minor, keys[k]))
	}
	return lines
}
