package audit

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// RuleField is one "-F field op value" comparison of a syscall rule.
type RuleField struct {
	Field, Op, Value uint32
}

// Rule fields and operators beyond arch and key (linux/audit.h).
const (
	FieldExit    = 103 // AUDIT_EXIT: the syscall's return value
	FieldSuccess = 104 // AUDIT_SUCCESS: 1 success, 0 failure
	OpEqual      = opEqual
)

// SyscallRule encodes an audit_rule_data for "-a always,exit -F arch=A
// -S syscalls [-F field op value]... -k key".
func SyscallRule(arch uint32, syscalls []int, key string, fields ...RuleField) ([]byte, error) {
	if len(key) == 0 || len(key) > maxRuleKey {
		return nil, fmt.Errorf("audit rule key %q: want 1..%d bytes", key, maxRuleKey)
	}
	if len(fields)+2 > ruleWords {
		return nil, fmt.Errorf("audit rule: %d fields", len(fields)+2)
	}
	b := make([]byte, 12+4*ruleWords*4+4, 12+4*ruleWords*4+4+len(key))
	put := func(off int, v uint32) { binary.NativeEndian.PutUint32(b[off:], v) }
	const maskOff, fieldsOff, valuesOff, flagsOff = 12, 12 + 4*ruleWords, 12 + 8*ruleWords, 12 + 12*ruleWords
	put(0, filterExit)
	put(4, actionAlways)
	put(8, uint32(len(fields)+2))
	for _, s := range syscalls {
		if s < 0 || s >= 32*ruleWords {
			return nil, fmt.Errorf("audit rule: syscall %d out of range", s)
		}
		off := maskOff + 4*(s/32)
		put(off, binary.NativeEndian.Uint32(b[off:])|1<<(s%32))
	}
	all := append([]RuleField{{fieldArch, opEqual, arch}}, fields...)
	for i, f := range all {
		put(fieldsOff+4*i, f.Field)
		put(valuesOff+4*i, f.Value)
		put(flagsOff+4*i, f.Op)
	}
	n := len(all)
	put(fieldsOff+4*n, fieldKey)
	put(valuesOff+4*n, uint32(len(key)))
	put(flagsOff+4*n, opEqual)
	put(12+16*ruleWords, uint32(len(key))) // buflen
	return append(b, key...), nil
}

// SocketSyscalls are one ABI's connect and accept syscall numbers.
type SocketSyscalls struct {
	Arch    uint32
	Connect []int
	Accept  []int // accept and accept4
}

// SocketArches lists the ABIs a process can connect or accept through on
// a kernel of the given machine (uname -m), native first, like the exec
// rules. Old 32-bit programs that multiplex through socketcall(2) are not
// covered: auditing socketcall would record every socket operation.
func SocketArches(machine string) []SocketSyscalls {
	x8664 := SocketSyscalls{archX8664.ID, []int{42}, []int{43, 288}}
	i386 := SocketSyscalls{archI386.ID, []int{362}, []int{364}}
	aarch64 := SocketSyscalls{archAArch64.ID, []int{203}, []int{202, 242}}
	arm := SocketSyscalls{archARM.ID, []int{283}, []int{285, 366}}
	switch {
	case machine == "x86_64":
		return []SocketSyscalls{x8664, i386}
	case machine == "i386" || machine == "i686" || machine == "i586":
		return []SocketSyscalls{i386}
	case machine == "aarch64" || machine == "arm64":
		return []SocketSyscalls{aarch64, arm}
	case strings.HasPrefix(machine, "arm"):
		return []SocketSyscalls{arm}
	}
	return nil
}
