package users

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseGroup(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []groupEntry
		wantErr []lineErr
	}{
		{name: "empty"},
		{
			name:  "members",
			input: "root:x:0:\nadm:x:4:syslog,kfir\nusers:x:100:a,,b,\n",
			want: []groupEntry{
				{Name: "root", GID: 0},
				{Name: "adm", GID: 4, Members: []string{"syslog", "kfir"}},
				{Name: "users", GID: 100, Members: []string{"a", "b"}},
			},
		},
		{
			name:  "malformed lines are skipped",
			input: "a:x:1\nb:x:2:c:d\n:x:3:\nneg:x:-5:\nhex:x:0x10:\n+@netgroup\n-grp:x:9:\nok:x:7:u\n",
			want:  []groupEntry{{Name: "ok", GID: 7, Members: []string{"u"}}},
			wantErr: []lineErr{
				{1, errFieldCount}, {2, errFieldCount}, {3, errEmptyName},
				{4, errBadID}, {5, errBadID}, {6, errNIS}, {7, errNIS},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parseGroup(strings.NewReader(tt.input))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, lineErrs(errs), cmpopts.EquateErrors()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMembership(t *testing.T) {
	groups := []groupEntry{
		{Name: "kfir", GID: 1000},
		{Name: "adm", GID: 4, Members: []string{"kfir"}},
		{Name: "sudo", GID: 27, Members: []string{"kfir"}},
		{Name: "wheel", GID: 27, Members: []string{"kfir", "toor"}},
		{Name: "self", GID: 1000, Members: []string{"kfir"}},
	}
	tests := []struct {
		name            string
		user            passwdEntry
		wantIDs, wantNS string
	}{
		{"primary then supplementary, each gid once", passwdEntry{Name: "kfir", GID: 1000}, "1000;4;27", "kfir;adm;sudo"},
		{"supplementary named by the listing line", passwdEntry{Name: "toor", GID: 1000}, "1000;27", "kfir;wheel"},
		{"primary gid without a group line", passwdEntry{Name: "orphan", GID: 4242}, "4242", "4242"},
	}
	m := newMembership(groups)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, names := m.groups(tt.user)
			if ids != tt.wantIDs || names != tt.wantNS {
				t.Errorf("groups = %q, %q; want %q, %q", ids, names, tt.wantIDs, tt.wantNS)
			}
		})
	}
}

func FuzzParseGroup(f *testing.F) {
	f.Add("root:x:0:\nadm:x:4:syslog,kfir\n")
	f.Add("+@ng\n:x:1:\na:x:1\nb:x:2:,,c,\n")
	f.Fuzz(func(t *testing.T, input string) {
		got, errs := parseGroup(strings.NewReader(input))
		if len(got)+len(errs) > strings.Count(input, "\n")+1 {
			t.Fatalf("%d entries and %d errors from %d lines", len(got), len(errs), strings.Count(input, "\n")+1)
		}
		for _, g := range got {
			if g.Name == "" || g.Name[0] == '+' || g.Name[0] == '-' || strings.ContainsAny(g.Name, ":\n") {
				t.Errorf("invalid name %q accepted", g.Name)
			}
			for _, m := range g.Members {
				if m == "" || strings.ContainsAny(m, ",:\n") {
					t.Errorf("invalid member %q", m)
				}
			}
		}
		// Whatever was parsed must resolve to aligned, non-empty lists.
		m := newMembership(got)
		for _, g := range got {
			for _, u := range g.Members {
				ids, names := m.groups(passwdEntry{Name: u, GID: g.GID})
				if ids == "" || strings.Count(ids, ";") > strings.Count(names, ";") {
					t.Errorf("groups(%q) = %q, %q", u, ids, names)
				}
			}
		}
	})
}
