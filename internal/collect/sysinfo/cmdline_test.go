package sysinfo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		want     []string
		wantBoot string
		wantErr  bool
	}{
		{name: "empty"},
		{
			name:     "typical",
			input:    "BOOT_IMAGE=/vmlinuz root=UUID=0a1b ro quiet\n",
			want:     []string{"BOOT_IMAGE=/vmlinuz", "root=UUID=0a1b", "ro", "quiet"},
			wantBoot: "UUID=0a1b",
		},
		{
			name:     "quotes group and are removed; the last root= wins",
			input:    `root=/dev/sda1 root="/dev/disk/by-label/my root" "acpi=off noapic"`,
			want:     []string{"root=/dev/sda1", "root=/dev/disk/by-label/my root", "acpi=off noapic"},
			wantBoot: "/dev/disk/by-label/my root",
		},
		{
			name:  "init's arguments after -- are ignored",
			input: "console=ttyS0 -- root=/dev/fake single\n",
			want:  []string{"console=ttyS0"},
		},
		{name: "unterminated quote keeps the rest", input: `a "b c`, want: []string{"a", "b c"}},
		{name: "too long", input: strings.Repeat("a", maxCmdlineBytes+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCmdline(strings.NewReader(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if boot := bootDevice(got); boot != tt.wantBoot {
				t.Errorf("bootDevice = %q, want %q", boot, tt.wantBoot)
			}
		})
	}
}
