// Package localonly keeps inference on machines the owner controls: it
// refuses a model server whose address is not loopback or private, unless
// the operator listed it.
package localonly

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Check reports, in one sentence, why the model server at rawURL may not be
// used: its host resolves to an address that is neither loopback nor
// private, and neither the host nor host:port is in allowed.
func Check(ctx context.Context, rawURL string, allowed []string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("OLLAMA_HOST %q is not a URL; set it like http://127.0.0.1:11434", rawURL)
	}
	host := u.Hostname()
	if slices.ContainsFunc(allowed, func(a string) bool {
		a = strings.TrimSpace(a)
		return a != "" && (strings.EqualFold(a, host) || strings.EqualFold(a, u.Host))
	}) {
		return nil
	}
	addrs, err := resolve(ctx, host)
	if err != nil {
		return fmt.Errorf("cannot resolve the model server %s (%v); Tandem only sends data to servers it can place on a local or private network", host, err)
	}
	for _, a := range addrs {
		if !Local(a) {
			return fmt.Errorf("the model server %s is at %s, which is not a loopback or private address; Tandem keeps inference local, "+
				"so point OLLAMA_HOST at your own Ollama server, or list %s under inference.endpoints in the data policy if that server is yours", u.Host, a, host)
		}
	}
	return nil
}

// Local reports whether a is a loopback, private (RFC 1918, RFC 4193) or
// link-local address.
func Local(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()
}

func resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address")
	}
	return ips, nil
}
