package edgetest

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParsePropertyBag(t *testing.T) {
	p := func(k, v string) Property { return Property{Key: k, Value: v} }
	nv := func(k string) Property { return Property{Key: k, NoValue: true} }
	cases := []struct {
		in   string
		want []Property
		err  bool
	}{
		{"", nil, false},
		{"a=b", []Property{p("a", "b")}, false},
		{"a=b&c=d", []Property{p("a", "b"), p("c", "d")}, false},
		{"%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1", []Property{p("$.ifid", "urn:azureiot:Security:SecurityAgent:1")}, false},
		{"k=a%20b", []Property{p("k", "a b")}, false},
		{"k=a+b", []Property{p("k", "a+b")}, false},
		{"k=%2B%26%3D%25%2F", []Property{p("k", "+&=%/")}, false},
		{"k=%C3%A9%E2%82%AC", []Property{p("k", "é€")}, false},
		{"k=é", []Property{p("k", "é")}, false},
		{"k=%FF%41", []Property{p("k", "%FFA")}, false},
		{"k=%C3", []Property{p("k", "%C3")}, false},
		{"k=%zz%4", []Property{p("k", "%zz%4")}, false},
		{"k=%", []Property{p("k", "%")}, false},
		{"a", []Property{nv("a")}, false},
		{"a=", []Property{nv("a")}, false},
		{"a&b=c", []Property{nv("a"), p("b", "c")}, false},
		{"a=&b", []Property{nv("a"), nv("b")}, false},
		{"a=1&a=2&b=3", []Property{p("a", "2"), p("b", "3")}, false},
		{"a=b/c=d", []Property{p("a", "b")}, false},
		{"a/b", []Property{nv("a")}, false},
		{"/a=b", nil, false},
		{"a=b=c", nil, true},
		{"=b", nil, true},
		{"&a=b", nil, true},
		{"a=b&", nil, true},
		{"a=b&&c=d", nil, true},
		{"a=b&=c", nil, true},
	}
	for _, tc := range cases {
		got, err := ParsePropertyBag(tc.in)
		if tc.err {
			if !errors.Is(err, ErrPropertyBag) {
				t.Errorf("%q: err=%v, want ErrPropertyBag", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tc.in, d)
		}
	}
}

// encodeComponent percent-encodes like .NET Uri.EscapeDataString (RFC 3986
// unreserved characters stay).
func encodeComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func FuzzParsePropertyBag(f *testing.F) {
	for _, s := range []string{"", "a=b", "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&x=%20%2F%26", "a=b=c", "a&b", "k=%C3%A9%FF", "a=b/c"} {
		f.Add(s, "k", "v")
	}
	f.Fuzz(func(t *testing.T, bag, k, v string) {
		props, err := ParsePropertyBag(bag)
		if err != nil && !errors.Is(err, ErrPropertyBag) {
			t.Fatalf("unexpected error type %v", err)
		}
		seen := map[string]bool{}
		for _, p := range props {
			if p.Key == "" || seen[p.Key] || (p.NoValue && p.Value != "") {
				t.Fatalf("bad property %+v in %q", p, bag)
			}
			seen[p.Key] = true
		}
		// Whatever a correct encoder emits must round-trip.
		if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return
		}
		enc := encodeComponent(k) + "=" + encodeComponent(v)
		if strings.ContainsAny(enc, "+#/") {
			t.Fatalf("encoding %q contains topic-hostile characters", enc)
		}
		got, err := ParsePropertyBag(enc + "&z=1")
		want := []Property{{Key: k, Value: v, NoValue: v == ""}, {Key: "z", Value: "1"}}
		if k == "z" {
			want = []Property{{Key: "z", Value: "1"}}
		}
		if err != nil || !cmp.Equal(got, want) {
			t.Fatalf("round trip %q: got %+v %v, want %+v", enc, got, err, want)
		}
	})
}
