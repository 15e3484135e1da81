package contract

import (
	"strings"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/net/http/httpguts"
)

// The identity headers as the mirrord client makes them, per version: the rule the reference
// client follows and HDR-IDENTITY judges by. Read in metalbear-co/mirrord's
// mirrord/operator/src/client.rs: connect_target (3.85.0–3.108.x: the values put on the
// connect request as they are, cleaned from 3.104.0, a value that is no legal header value
// failing the request) and base_client_config (3.109.0 on: cleaned, every request, a value
// that is still no legal header value left out with a debug log); the `unknown` fallback of
// UserIdentity::load (mirrord/auth/src/credential_store.rs) from 3.206.0.

// Client versions the identity headers changed at.
var (
	identityOnConnects = semver.MustParse("3.85.0-0")
	identityCleaned    = semver.MustParse("3.104.0-0")
	everyRequest       = semver.MustParse("3.109.0-0")
)

// Identity is what a client reads of its user and machine before it cleans anything: the
// user's real name and the host name.
type Identity struct {
	Name, Hostname string
}

// CleanIdentity cleans a name or host name as the mirrord client does from 3.104.0: every
// non-ASCII character removed, then surrounding white space trimmed. A name of only
// non-ASCII letters becomes "", which is still sent.
func CleanIdentity(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// IdentityValue is what a client of version v sends for the raw value of an identity header
// (on the requests its version puts identity on): the value, and whether it sends the header
// at all. From 3.109.0 a cleaned value that is no legal header value (an inner control
// character) is left out; before, it went on the request as it was, which then failed.
func IdentityValue(v *semver.Version, raw string) (string, bool) {
	if v.LessThan(identityCleaned) {
		return raw, true
	}
	value := CleanIdentity(raw)
	if !v.LessThan(everyRequest) && !httpguts.ValidHeaderFieldValue(value) {
		return "", false
	}
	return value, true
}

// cleanedValue reports whether v is a value the cleaning leaves: ASCII only, no surrounding
// white space, a legal header value (the empty value included).
func cleanedValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return false
		}
	}
	return v == strings.TrimSpace(v) && httpguts.ValidHeaderFieldValue(v)
}
