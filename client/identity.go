package client

import (
	"os"
	"os/user"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Identity is what the identity headers carry.
type Identity struct {
	// Name is the user's real name, Hostname the machine's; empty means the header is left out.
	Name     string
	Hostname string
}

// CleanHeaderValue cleans a name or hostname as the mirrord client does (from 3.104.0):
// every non-ASCII character removed, then surrounding white space trimmed. It reports false
// when the result is still not a legal header value (an inner control character, DEL), in
// which case the header is left out.
func CleanHeaderValue(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	out := strings.TrimSpace(b.String())
	return out, out != "" && httpguts.ValidHeaderFieldValue(out)
}

// LocalIdentity reads the user's real name and the host name, as the client of behaviours
// b would send them. OPCLIENT_REALNAME and OPCLIENT_HOSTNAME override what the system says,
// so tests can run clients as different users on one machine.
func LocalIdentity(b Behaviours) Identity {
	name, nameOK := os.LookupEnv("OPCLIENT_REALNAME")
	if !nameOK {
		if u, err := user.Current(); err == nil {
			name, nameOK = u.Name, true
			if name == "" {
				name = u.Username
			}
		}
	}
	host, hostOK := os.LookupEnv("OPCLIENT_HOSTNAME")
	if !hostOK {
		h, err := os.Hostname()
		host, hostOK = h, err == nil
	}
	if b[UnknownIdentityFallback] {
		if !nameOK {
			name = "unknown"
		}
		if !hostOK {
			host = "unknown"
		}
	}
	return identityFor(b, name, host)
}

// identityFor applies the version's cleaning rules.
func identityFor(b Behaviours, name, host string) Identity {
	clean := func(s string) string {
		if b[CleanIdentity] {
			s, _ = CleanHeaderValue(s)
		}
		if !httpguts.ValidHeaderFieldValue(s) {
			return ""
		}
		return s
	}
	return Identity{Name: clean(name), Hostname: clean(host)}
}
