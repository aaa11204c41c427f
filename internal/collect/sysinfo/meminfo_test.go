package sysinfo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    map[string]int64
		wantErr []error
	}{
		{name: "empty", want: map[string]int64{}},
		{
			name:  "kB values kept, counts left out",
			input: "MemTotal:        8129616 kB\nActive(anon):      12804 kB\nHugePages_Total:       0\nSwapTotal:             0 kB\n",
			want:  map[string]int64{"MemTotal": 8129616, "Active(anon)": 12804, "SwapTotal": 0},
		},
		{
			name:    "malformed lines are skipped",
			input:   "NoColon 5 kB\n: 5 kB\nEmpty:\nNeg: -5 kB\nHex: 0x10 kB\nHuge: 99999999999999999999 kB\nUnit: 5 MB\nExtra: 5 kB x\nMemTotal: 7 kB\n",
			want:    map[string]int64{"MemTotal": 7},
			wantErr: []error{errNoColon, errNoColon, errBadValue, errBadValue, errBadValue, errBadValue, errBadUnit, errBadValue},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parseMeminfo(strings.NewReader(tt.input))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			gotErr := reasons(errs, errNoColon, errBadValue, errBadUnit)
			if diff := cmp.Diff(tt.wantErr, gotErr, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemoryFrom(t *testing.T) {
	p := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		kb   map[string]int64
		want memory
	}{
		{"nothing", map[string]int64{}, memory{}},
		{
			"MemAvailable is free, swap adds to virtual",
			map[string]int64{"MemTotal": 100, "MemFree": 10, "MemAvailable": 60, "SwapTotal": 50, "SwapFree": 40},
			memory{TotalPhysical: p(100), FreePhysical: p(60), TotalVirtual: p(150), FreeVirtual: p(100)},
		},
		{
			"old kernel without MemAvailable, no swap lines",
			map[string]int64{"MemTotal": 100, "MemFree": 10},
			memory{TotalPhysical: p(100), FreePhysical: p(10)},
		},
		{
			"sums saturate",
			map[string]int64{"MemTotal": 1<<63 - 1, "MemAvailable": 1, "SwapTotal": 5, "SwapFree": 1},
			memory{TotalPhysical: p(1<<63 - 1), FreePhysical: p(1), TotalVirtual: p(1<<63 - 1), FreeVirtual: p(2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, memoryFrom(tt.kb)); diff != "" {
				t.Errorf("memoryFrom (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add("MemTotal:        8129616 kB\nHugePages_Total:       0\n")
	f.Add("MemTotal: 9223372036854775807 kB\nSwapTotal: 9223372036854775807 kB\nMemAvailable: 1 kB\nSwapFree: 3 kB\nx\n")
	f.Fuzz(func(t *testing.T, input string) {
		kb, errs := parseMeminfo(strings.NewReader(input))
		if len(kb)+len(errs) > strings.Count(input, "\n")+1 {
			t.Fatalf("%d values and %d errors from %d lines", len(kb), len(errs), strings.Count(input, "\n")+1)
		}
		for k, v := range kb {
			if v < 0 || k == "" || strings.Contains(k, "\n") {
				t.Errorf("%q = %d accepted", k, v)
			}
		}
		m := memoryFrom(kb)
		for _, v := range []*int64{m.TotalPhysical, m.FreePhysical, m.TotalVirtual, m.FreeVirtual} {
			if v != nil && *v < 0 {
				t.Errorf("negative memory %d from %v", *v, kb)
			}
		}
		if m.TotalVirtual != nil && *m.TotalVirtual < *m.TotalPhysical {
			t.Errorf("virtual %d below physical %d", *m.TotalVirtual, *m.TotalPhysical)
		}
	})
}
