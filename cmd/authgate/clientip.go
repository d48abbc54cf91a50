package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// parseTrustedProxies reads AUTHGATE_TRUSTED_PROXIES: comma-separated
// addresses and CIDR networks, IPv4 or IPv6. A bare address is a network of
// one. Empty means none. Networks that trust every address are refused: with
// them any client could pick its own address.
func parseTrustedProxies(raw string) ([]*net.IPNet, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var nets []*net.IPNet
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("AUTHGATE_TRUSTED_PROXIES: entry %d is empty; separate addresses and networks with single commas", i+1)
		}
		n, err := parseTrustedProxy(entry)
		if err != nil {
			return nil, err
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func parseTrustedProxy(entry string) (*net.IPNet, error) {
	if !strings.Contains(entry, "/") {
		ip := net.ParseIP(entry)
		if ip == nil {
			return nil, notANetwork(entry)
		}
		if v4 := ip.To4(); v4 != nil {
			return &net.IPNet{IP: v4, Mask: net.CIDRMask(32, 32)}, nil
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(128, 128)}, nil
	}
	ip, n, err := net.ParseCIDR(entry)
	if err != nil {
		return nil, notANetwork(entry)
	}
	ones, _ := n.Mask.Size()
	// ::ffff:0:0/96 is every IPv4 address to Go's IPNet.Contains.
	if ones == 0 || n.Contains(net.IPv4zero) && n.Contains(net.IPv4bcast) {
		return nil, fmt.Errorf("AUTHGATE_TRUSTED_PROXIES: %q trusts every address, so any client could choose the address "+
			"authgate records and throttles by, with an X-Forwarded-For header of its own: list only your proxies' addresses or networks", entry)
	}
	if !ip.Equal(n.IP) {
		// 10.0.0.7/8 is most likely a typo for one address, not a wish to trust 16 million.
		return nil, fmt.Errorf("AUTHGATE_TRUSTED_PROXIES: %q has bits set past its prefix length: write the network as %s, or the address alone", entry, n)
	}
	return n, nil
}

func notANetwork(entry string) error {
	return fmt.Errorf("AUTHGATE_TRUSTED_PROXIES: %q is not an address or a CIDR network such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32", entry)
}

// clientIP returns how a request's client address is found (for audit rows,
// sessions and per-address login throttles). With no trusted proxies it is
// the TCP peer's, whatever the headers say. Otherwise, walking X-Forwarded-For
// leftwards from the peer through trusted hops, it is the first hop not
// trusted: the peer itself when the peer is not trusted, or when the header is
// absent or holds anything but addresses; the leftmost entry when every hop is
// trusted. Only the listed networks are trusted: not loopback, link-local or
// private networks by default, as Echo would.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	xff := echo.ExtractIPFromXFFHeader(opts...)
	return func(r *http.Request) string {
		ip := xff(r)
		// Echo returns the leftmost entry as written when every hop is trusted;
		// one spelling per address keeps throttles and audit filters exact.
		if parsed := net.ParseIP(ip); parsed != nil {
			return parsed.String()
		}
		return ip
	}
}
