package safehttp

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CheckURL refuses, without touching the network, a user-supplied URL whose
// destination is plainly not allowed: another scheme than http(s), a literal
// IP address the dial-time guard would refuse (loopback, private, link-local,
// metadata, …, unless in opts.AllowPrivate), a localhost or single-label host
// name, or a port outside opts.AllowedPorts. It exists for a clear 400 at
// submit time; host names are still resolved and every address checked when
// the URL is dialled, which is what actually keeps requests in.
//
// With a non-empty AllowPrivate only literal addresses and ports are judged:
// a private deployment may well reach its receivers by internal names.
func CheckURL(raw string, opts Options) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &RefusedError{Reason: "it is not a valid URL"}
	}
	if err := CheckScheme(u); err != nil {
		return err
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return &RefusedError{Reason: "the URL has no host"}
	}
	g := newGuard(opts)
	port := uint16(80)
	if strings.EqualFold(u.Scheme, "https") {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return &RefusedError{Reason: fmt.Sprintf("port %q is not a port number", p)}
		}
		port = uint16(n)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return g.check(netip.AddrPortFrom(addr.WithZone(""), port))
	}
	if len(opts.AllowPrivate) > 0 {
		return nil
	}
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "localhost.localdomain" || host == "ip6-localhost":
		return &RefusedError{Reason: host + " is a loopback host name"}
	case !strings.Contains(host, "."):
		return &RefusedError{Reason: fmt.Sprintf("%s is a single-label host name, not a public one", host)}
	case !slices.Contains(g.ports, port):
		return &RefusedError{Reason: fmt.Sprintf("port %d is not allowed (allowed: %s)", port, joinPorts(g.ports))}
	}
	return nil
}
