package client

import (
	"os"
	"os/user"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/contract"
)

// Identity is what the client reads of its user and machine: the real name and the host
// name, raw. The version's rules (contract.IdentityValue) make the headers of it.
type Identity = contract.Identity

// LocalIdentity reads the user's real name (the account's full name, else its user name) and
// the host name, as the mirrord CLI reads them; a client from 3.206.0 (b) puts "unknown" for
// what it cannot read. OPCLIENT_REALNAME and OPCLIENT_HOSTNAME override what the system says,
// so tests can run clients as different users on one machine.
func LocalIdentity(b Behaviours) Identity {
	id, nameOK, hostOK := MachineIdentity()
	if b[UnknownIdentityFallback] {
		if !nameOK {
			id.Name = "unknown"
		}
		if !hostOK {
			id.Hostname = "unknown"
		}
	}
	return id
}

// MachineIdentity is what a client on this machine reads of its user and host (see
// LocalIdentity), and whether it could read each.
func MachineIdentity() (id Identity, nameOK, hostOK bool) {
	id.Name, nameOK = os.LookupEnv("OPCLIENT_REALNAME")
	if !nameOK {
		if u, err := user.Current(); err == nil {
			id.Name, nameOK = u.Name, true
			if id.Name == "" {
				id.Name = u.Username
			}
		}
	}
	id.Hostname, hostOK = os.LookupEnv("OPCLIENT_HOSTNAME")
	if !hostOK {
		h, err := os.Hostname()
		id.Hostname, hostOK = h, err == nil
	}
	return id, nameOK, hostOK
}

// identityHeader is the value slice a client of version v sends for raw (see
// contract.IdentityValue): nil when it leaves the header out, one value (perhaps "") else.
func identityHeader(v *semver.Version, raw string) []string {
	value, sent := contract.IdentityValue(v, raw)
	if !sent {
		return nil
	}
	return []string{value}[:1:1]
}
