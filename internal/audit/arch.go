package audit

import (
	"encoding/binary"
	"strings"
)

func putHeader(b []byte, length uint32, typ, flags uint16, seq uint32) {
	binary.NativeEndian.PutUint32(b[0:], length)
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], 0)
}

// Audit architectures (AUDIT_ARCH_*) with execve, execveat.
var (
	archX8664   = Arch{ID: 0xc000003e, Syscall: []int{59, 322}}
	archI386    = Arch{ID: 0x40000003, Syscall: []int{11, 358}}
	archAArch64 = Arch{ID: 0xc00000b7, Syscall: []int{221, 281}}
	archARM     = Arch{ID: 0x40000028, Syscall: []int{11, 387}}
)

// execArches lists the ABIs a process can exec through on a kernel of
// the given machine (uname -m): the native one and the 32-bit compat one,
// so that compat processes are not invisible. It goes by the kernel, not
// by GOARCH: a 32-bit module on a 64-bit kernel must see 64-bit execs.
func execArches(machine string) []Arch {
	switch {
	case machine == "x86_64":
		return []Arch{archX8664, archI386}
	case machine == "i386" || machine == "i686" || machine == "i586":
		return []Arch{archI386}
	case machine == "aarch64" || machine == "arm64":
		return []Arch{archAArch64, archARM}
	case strings.HasPrefix(machine, "arm"):
		return []Arch{archARM}
	}
	return nil
}
