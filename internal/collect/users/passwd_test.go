package users

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// lineErr is a wanted *LineError: the line and the sentinel reason.
type lineErr struct {
	Line int
	Err  error
}

// lineErrs turns parser errors into lineErrs; an error that is not a
// *LineError keeps line 0.
func lineErrs(errs []error) []lineErr {
	var out []lineErr
	for _, err := range errs {
		var le *LineError
		if errors.As(err, &le) {
			out = append(out, lineErr{le.Line, le.Err})
		} else {
			out = append(out, lineErr{0, err})
		}
	}
	return out
}

func TestParsePasswd(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+10)
	tests := []struct {
		name    string
		input   string
		want    []passwdEntry
		wantErr []lineErr
	}{
		{name: "empty"},
		{
			name:  "typical",
			input: "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
			want: []passwdEntry{
				{Name: "root", UID: 0, GID: 0, Home: "/root", Shell: "/bin/bash"},
				{Name: "daemon", UID: 1, GID: 1, Home: "/usr/sbin", Shell: "/usr/sbin/nologin"},
			},
		},
		{
			name:  "no final newline, CRLF, empty home and shell",
			input: "a:x:1:2:::\r\nb:*:4294967295:3:gecos::",
			want:  []passwdEntry{{Name: "a", UID: 1, GID: 2}, {Name: "b", UID: 4294967295, GID: 3}},
		},
		{
			name:  "blank lines and comments are skipped silently, leading blanks dropped",
			input: "\n   \n# comment\n  # indented comment\n\t root:x:0:0::/:/bin/sh\n",
			want:  []passwdEntry{{Name: "root", Home: "/", Shell: "/bin/sh"}},
		},
		{
			name:  "malformed lines are skipped, the rest kept",
			input: "good:x:1:1::/:/bin/sh\nshort:x:1\nlong:x:1:1::/:/bin/sh:extra\n:x:1:1::/:\nuid:x:-1:1::/:\ngid:x:1:abc::/:\nbig:x:4294967296:1::/:\nlast:x:2:2::/:\n",
			want:  []passwdEntry{{Name: "good", UID: 1, GID: 1, Home: "/", Shell: "/bin/sh"}, {Name: "last", UID: 2, GID: 2, Home: "/"}},
			wantErr: []lineErr{
				{2, errFieldCount}, {3, errFieldCount}, {4, errEmptyName},
				{5, errBadID}, {6, errBadID}, {7, errBadID},
			},
		},
		{
			name:    "NIS compat entries",
			input:   "+::::::\n+\n-baduser\n+@admins::::::\nok:x:5:5::/:\n",
			want:    []passwdEntry{{Name: "ok", UID: 5, GID: 5, Home: "/"}},
			wantErr: []lineErr{{1, errNIS}, {2, errNIS}, {3, errNIS}, {4, errNIS}},
		},
		{
			name:    "overlong line is skipped and parsing resumes",
			input:   "a:x:1:1::/:\n" + long + "\nb:x:2:2::/:\n",
			want:    []passwdEntry{{Name: "a", UID: 1, GID: 1, Home: "/"}, {Name: "b", UID: 2, GID: 2, Home: "/"}},
			wantErr: []lineErr{{2, errTooLong}},
		},
		{
			name:    "overlong last line without newline",
			input:   "a:x:1:1::/:\n" + long,
			want:    []passwdEntry{{Name: "a", UID: 1, GID: 1, Home: "/"}},
			wantErr: []lineErr{{2, errTooLong}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parsePasswd(strings.NewReader(tt.input))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, lineErrs(errs), cmpopts.EquateErrors()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePasswdLineLimit(t *testing.T) {
	var b strings.Builder
	for i := range maxLines + 5 {
		fmt.Fprintf(&b, "u%d:x:%d:%d::/:\n", i, i, i)
	}
	got, errs := parsePasswd(strings.NewReader(b.String()))
	if len(got) != maxLines {
		t.Errorf("got %d entries, want %d", len(got), maxLines)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "rest ignored") {
		t.Errorf("errors = %v, want one truncation error", errs)
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/bash\n")
	f.Add("+::::::\n# c\n\nshort:x:1\na:x:1:1::/:\r\n")
	f.Add("a:x:4294967296:0:::\nb:x:01:+2:::")
	f.Fuzz(func(t *testing.T, input string) {
		got, errs := parsePasswd(strings.NewReader(input))
		if len(got)+len(errs) > strings.Count(input, "\n")+1 {
			t.Fatalf("%d entries and %d errors from %d lines", len(got), len(errs), strings.Count(input, "\n")+1)
		}
		for _, u := range got {
			if u.Name == "" || u.Name[0] == '+' || u.Name[0] == '-' {
				t.Errorf("invalid name %q accepted", u.Name)
			}
			for _, s := range []string{u.Name, u.Home, u.Shell} {
				if strings.ContainsAny(s, ":\n") {
					t.Errorf("field %q holds a separator", s)
				}
			}
			if utf8.ValidString(input) && !utf8.ValidString(u.Name) {
				t.Errorf("name %q is not UTF-8 although the input is", u.Name)
			}
		}
		for _, err := range errs {
			var le *LineError
			if errors.As(err, &le) && le.Line < 1 {
				t.Errorf("line number %d", le.Line)
			}
		}
	})
}

// BenchmarkParsePasswd parses a 10,000-account file.
func BenchmarkParsePasswd(b *testing.B) {
	var sb strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&sb, "user%d:x:%d:%d:User %d,,,:/home/user%d:/bin/bash\n", i, 1000+i, 1000+i, i, i)
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		users, errs := parsePasswd(strings.NewReader(input))
		if len(users) != 10_000 || len(errs) != 0 {
			b.Fatalf("%d users, %v", len(users), errs)
		}
	}
}
