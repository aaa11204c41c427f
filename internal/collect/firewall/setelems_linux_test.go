package firewall

import (
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// setElemsMsg builds an NFT_MSG_NEWSETELEM body: an interval set's
// start and end elements for each [lo, hi) key pair.
func setElemsMsg(t testing.TB, keys ...[]byte) []byte {
	t.Helper()
	var elems []netlink.Attribute
	for i, k := range keys {
		attrs := []netlink.Attribute{{Type: unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_KEY,
			Data: mustAttrs(t, netlink.Attribute{Type: unix.NFTA_DATA_VALUE, Data: k})}}
		if i%2 == 1 {
			attrs = append(attrs, netlink.Attribute{Type: unix.NFTA_SET_ELEM_FLAGS, Data: []byte{0, 0, 0, unix.NFT_SET_ELEM_INTERVAL_END}})
		}
		elems = append(elems, netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_LIST_ELEM, Data: mustAttrs(t, attrs...)})
	}
	body := mustAttrs(t,
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte("f\x00")},
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_LIST_ELEMENTS, Data: mustAttrs(t, elems...)},
	)
	return append([]byte{unix.NFPROTO_INET, 0, 0, 0}, body...)
}

func TestParseSetElems(t *testing.T) {
	good := setElemsMsg(t, []byte{192, 0, 2, 0}, []byte{192, 0, 3, 0}, []byte{198, 51, 100, 7}, []byte{198, 51, 100, 8})
	tests := []struct {
		name    string
		data    []byte
		room    int
		want    string // rendered as IPv4 addresses
		omitted int
		wantErr string
	}{
		{name: "two ranges", data: good, room: 10, want: "192.0.2.0/24,198.51.100.7"},
		{name: "bounded", data: good, room: 2, want: "192.0.2.0/24", omitted: 2},
		{name: "short", data: []byte{1, 0}, room: 10, wantErr: "set element message of 2 bytes"},
		{name: "truncated", data: good[:len(good)-5], room: 10, wantErr: "set element attributes"},
		{name: "no elements", data: []byte{1, 0, 0, 0}, room: 10, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elems, omitted, err := parseSetElems(tt.data, tt.room)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := &setView{interval: true, elems: elems}
			if got := v.render(operand{kind: kindAddr4}); got != tt.want || omitted != tt.omitted {
				t.Errorf("got %q omitted %d, want %q omitted %d", got, omitted, tt.want, tt.omitted)
			}
		})
	}
}

// FuzzParseSetElems: any message decodes or fails, within its bound,
// and renders as an interval set of any key type without panicking.
func FuzzParseSetElems(f *testing.F) {
	f.Add(setElemsMsg(f, []byte{192, 0, 2, 0}, []byte{192, 0, 3, 0}), 4)
	f.Add(setElemsMsg(f, []byte{0, 22}, []byte{0, 23}, []byte{0xff}), 1)
	f.Fuzz(func(t *testing.T, data []byte, room int) {
		room = max(room%100, 0)
		elems, _, err := parseSetElems(data, room)
		if err != nil {
			return
		}
		if len(elems) > room {
			t.Fatalf("%d elements kept, bound %d", len(elems), room)
		}
		for _, k := range []valueKind{kindAddr4, kindAddr6, kindPort, kindHex} {
			(&setView{interval: true, elems: elems}).render(operand{kind: k})
			(&setView{elems: elems}).render(operand{kind: k})
		}
	})
}
