package audit

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestSyscallRule(t *testing.T) {
	// Without extra fields it is the exec rule's encoding.
	got, err := SyscallRule(archX8664.ID, archX8664.Syscall, "k")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ExecRule(archX8664, "k")
	if !bytes.Equal(got, want) {
		t.Error("SyscallRule without fields differs from ExecRule")
	}
	r, err := SyscallRule(0xc000003e, []int{43, 288}, "azureiotsecurity-connection", RuleField{FieldSuccess, OpEqual, 1})
	if err != nil {
		t.Fatal(err)
	}
	u := func(off int) uint32 { return binary.NativeEndian.Uint32(r[off:]) }
	if u(8) != 3 {
		t.Errorf("field_count = %d; want 3", u(8))
	}
	if u(12+4*(43/32))&(1<<(43%32)) == 0 || u(12+4*(288/32))&(1<<(288%32)) == 0 {
		t.Error("syscall bits not set")
	}
	fields, values := 12+4*ruleWords, 12+8*ruleWords
	if u(fields+4) != FieldSuccess || u(values+4) != 1 || u(fields+8) != fieldKey {
		t.Errorf("fields %d=%d, %d", u(fields+4), u(values+4), u(fields+8))
	}
	if k, err := RuleKey(r); err != nil || k != "azureiotsecurity-connection" {
		t.Errorf("RuleKey = %q, %v", k, err)
	}
	for _, bad := range []struct {
		sys []int
		key string
		n   int
	}{{[]int{-1}, "k", 0}, {[]int{2048}, "k", 0}, {nil, "", 0}, {nil, string(make([]byte, 257)), 0}, {nil, "k", 63}} {
		if _, err := SyscallRule(1, bad.sys, bad.key, make([]RuleField, bad.n)...); err == nil {
			t.Errorf("SyscallRule(%v, %d-byte key, %d fields) accepted", bad.sys, len(bad.key), bad.n)
		}
	}
}

func TestSocketArches(t *testing.T) {
	for _, tt := range []struct {
		machine string
		arches  []uint32
	}{
		{"x86_64", []uint32{0xc000003e, 0x40000003}},
		{"i686", []uint32{0x40000003}},
		{"aarch64", []uint32{0xc00000b7, 0x40000028}},
		{"armv7l", []uint32{0x40000028}},
		{"riscv64", nil},
	} {
		got := SocketArches(tt.machine)
		if len(got) != len(tt.arches) {
			t.Errorf("%s: %d ABIs; want %d", tt.machine, len(got), len(tt.arches))
			continue
		}
		for i, a := range got {
			if a.Arch != tt.arches[i] || len(a.Connect) == 0 || len(a.Accept) == 0 {
				t.Errorf("%s: %+v", tt.machine, a)
			}
		}
	}
}
