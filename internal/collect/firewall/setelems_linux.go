package firewall

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// maxSetElemsRead bounds the elements kept of one set; the rest are
// counted and shown as "…+N".
const maxSetElemsRead = 1 << 16

// getSetElems dumps the elements of one set on the connection that
// dumped the rules. The library's GetSetElements opens a socket and
// waits for an acknowledgement per set, which made a ruleset with a
// thousand anonymous sets take seconds; this is one round trip.
func getSetElems(nl *netlink.Conn, family byte, table, set string) (elems []setElem, omitted int, err error) {
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte(table + "\x00")},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte(set + "\x00")},
	})
	if err != nil {
		return nil, 0, err
	}
	req := nfgen(unix.NFT_MSG_GETSETELEM, netlink.Dump)
	req.Data[0] = family
	req.Data = append(req.Data, attrs...)
	msgs, err := nl.Execute(req)
	if err != nil {
		return nil, 0, fmt.Errorf("dump elements of set %s: %w", set, err)
	}
	for _, m := range msgs {
		es, n, err := parseSetElems(m.Data, maxSetElemsRead-len(elems))
		if err != nil {
			return nil, 0, fmt.Errorf("dump elements of set %s: %w", set, err)
		}
		elems = append(elems, es...)
		omitted += n
	}
	return elems, omitted, nil
}

// parseSetElems decodes one NFT_MSG_NEWSETELEM body (nfgenmsg, then the
// element list), keeping at most room elements and counting the others.
func parseSetElems(data []byte, room int) (elems []setElem, omitted int, err error) {
	if len(data) < 4 {
		return nil, 0, fmt.Errorf("set element message of %d bytes", len(data))
	}
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return nil, 0, fmt.Errorf("set element attributes: %w", err)
	}
	ad.ByteOrder = binary.BigEndian
	for ad.Next() {
		if ad.Type() != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			continue
		}
		ad.Nested(func(list *netlink.AttributeDecoder) error {
			for list.Next() {
				if len(elems) >= room {
					omitted++
					continue
				}
				var e setElem
				list.Nested(func(el *netlink.AttributeDecoder) error {
					el.ByteOrder = binary.BigEndian
					for el.Next() {
						switch el.Type() {
						case unix.NFTA_SET_ELEM_KEY:
							el.Nested(func(k *netlink.AttributeDecoder) error {
								for k.Next() {
									if k.Type() == unix.NFTA_DATA_VALUE {
										e.key = k.Bytes()
									}
								}
								return nil
							})
						case unix.NFTA_SET_ELEM_FLAGS:
							e.end = el.Uint32()&unix.NFT_SET_ELEM_INTERVAL_END != 0
						}
					}
					return nil
				})
				elems = append(elems, e)
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil {
		return nil, 0, fmt.Errorf("set element attributes: %w", err)
	}
	return elems, omitted, nil
}
