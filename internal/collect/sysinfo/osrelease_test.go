package sysinfo

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reasons maps parser errors to the sentinels they wrap, for comparison.
func reasons(errs []error, sentinels ...error) []error {
	var out []error
	for _, err := range errs {
		r := err
		for _, s := range sentinels {
			if errors.Is(err, s) {
				r = s
			}
		}
		out = append(out, r)
	}
	return out
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    map[string]string
		wantErr []error
	}{
		{name: "empty", want: map[string]string{}},
		{
			name:  "debian",
			input: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			want:  map[string]string{"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian"},
		},
		{
			name:  "quoting and escapes",
			input: `A='single $x \n'` + "\n" + `B="say \"hi\" \\ \$HOME \` + "`" + `x\` + "`" + ` \n"` + "\nC=un\\ quoted\nD=\nE=\"\"\n",
			want: map[string]string{
				"A": `single $x \n`,
				"B": `say "hi" \ $HOME ` + "`x`" + ` \n`,
				"C": "un quoted", "D": "", "E": "",
			},
		},
		{
			name:  "comments, blank lines, whitespace, repeated key",
			input: "# comment\n\n   ID=first\n\tID=second  \r\n",
			want:  map[string]string{"ID": "second"},
		},
		{
			name:    "malformed lines are skipped",
			input:   "NOEQUALS\n1BAD=x\nBAD-KEY=x\n=x\nQ=\"open\nS='open\nT=\"a\"b\nU=two words\nV='a'b\nOK=yes\n",
			want:    map[string]string{"OK": "yes"},
			wantErr: []error{errNoEquals, errBadKey, errBadKey, errBadKey, errUnterminated, errUnterminated, errTrailing, errUnquotedSpace, errTrailing},
		},
		{
			name:    "overlong line ends the parse, keeping what came before",
			input:   "ID=x\nNAME=" + strings.Repeat("a", maxLineBytes) + "\nVERSION_ID=1\n",
			want:    map[string]string{"ID": "x"},
			wantErr: []error{bufio.ErrTooLong},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parseOSRelease(strings.NewReader(tt.input))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("vars (-want +got):\n%s", diff)
			}
			gotErr := reasons(errs, errNoEquals, errBadKey, errUnterminated, errTrailing, errUnquotedSpace, bufio.ErrTooLong)
			if diff := cmp.Diff(tt.wantErr, gotErr, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add("NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\n")
	f.Add("A='x'\nB=\"\\\"\\\\\"\nC=a\\ b\n# c\nbad\n")
	f.Fuzz(func(t *testing.T, input string) {
		vars, errs := parseOSRelease(strings.NewReader(input))
		if len(vars)+len(errs) > strings.Count(input, "\n")+1 {
			t.Fatalf("%d vars and %d errors from %d lines", len(vars), len(errs), strings.Count(input, "\n")+1)
		}
		for k, v := range vars {
			if !validKey(k) {
				t.Errorf("invalid key %q accepted", k)
			}
			if strings.Contains(v, "\n") {
				t.Errorf("value of %s spans lines: %q", k, v)
			}
			if len(v) > len(input) {
				t.Errorf("value of %s longer than the input", k)
			}
		}
	})
}
