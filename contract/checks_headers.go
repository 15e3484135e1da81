package contract

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// The header requirements: version, certificate (carried, exempt, valid), identity.

func checkVersionHeader(s Subject, o Observation) (bool, *violation) {
	entries := operatorEntries(o)
	for _, e := range entries {
		vs := values(e, s.Headers.Version)
		switch {
		case len(vs) == 0:
			return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s", e.Method, e.Path, e.Class, s.Headers.Version)}
		case len(vs) > 1:
			return true, &violation{"repeated", fmt.Sprintf("%s %s carries %s %d times", e.Method, e.Path, s.Headers.Version, len(vs))}
		}
		if _, err := semver.StrictNewVersion(vs[0]); err != nil {
			return true, &violation{"not-semver", fmt.Sprintf("%s %q on %s is not SemVer", s.Headers.Version, vs[0], e.Class)}
		}
		if vs[0] != s.ClientVersion.Original() && vs[0] != s.ClientVersion.String() {
			return true, &violation{"mismatch", fmt.Sprintf("%s %q on %s, the client is %s", s.Headers.Version, vs[0], e.Class, s.ClientVersion)}
		}
	}
	return len(entries) > 0, nil
}

// exempt classes never need a certificate.
func exempt(c Class) bool {
	return c == ClassOperatorGet || c == ClassOperatorDiscovery || c == ClassCredentialRequest
}

func checkCertificateHeader(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioExec && o.Kind != ScenarioExecStale && o.Kind != ScenarioFixture {
		return false, nil
	}
	every := !s.ClientVersion.LessThan(semver.MustParse("3.109.0-0"))
	ready, observed := false, false
	for _, e := range operatorEntries(o) {
		if e.Class == ClassOperatorGet {
			ready = true // the certificate is prepared right after the operator GET
			continue
		}
		if !ready || exempt(e.Class) || (!every && !e.Class.IsConnect()) {
			continue
		}
		observed = true
		if e.Certificate == nil {
			return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s after the certificate was ready", e.Method, e.Path, e.Class, s.Headers.Certificate)}
		}
	}
	return observed, nil
}

func checkCertificateExempt(s Subject, o Observation) (bool, *violation) {
	observed := false
	for i, e := range operatorEntries(o) {
		mustNot := e.Class == ClassCredentialRequest || o.Kind == ScenarioStatus || (i == 0 && e.Class == ClassOperatorGet)
		if !mustNot || o.Injected {
			continue
		}
		observed = true
		if e.Certificate != nil {
			return true, &violation{"sent-on-exempt", fmt.Sprintf("%s %s (%s) carries a certificate it needs not", e.Method, e.Path, e.Class)}
		}
	}
	return observed, nil
}

func checkCertificateValid(s Subject, o Observation) (bool, *violation) {
	if o.Injected {
		return false, nil
	}
	observed := false
	for _, e := range o.Entries {
		if e.Certificate == nil || e.Certificate.Verdict == Unjudged {
			continue // a recording proxy cannot judge a real operator's certificates
		}
		observed = true
		if e.Certificate.Verdict != "valid" {
			return true, &violation{e.Certificate.Verdict, fmt.Sprintf("%s %s carried certificate %s, judged %s", e.Method, e.Path, e.Certificate.Fingerprint, e.Certificate.Verdict)}
		}
		if o.ClientUserID != "" && e.Certificate.UserID != o.ClientUserID {
			return true, &violation{"wrong-key", fmt.Sprintf("%s %s carried a certificate for user %s, the client's key is %s", e.Method, e.Path, e.Certificate.UserID, o.ClientUserID)}
		}
	}
	return observed, nil
}

func checkIdentity(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioTakeover {
		return false, nil // the harness's probe, not the client
	}
	every := !s.ClientVersion.LessThan(everyRequest)
	cleaned := !s.ClientVersion.LessThan(identityCleaned)
	roles := []struct{ name, raw string }{{s.Headers.Name, ""}, {s.Headers.Hostname, ""}}
	if s.Identity != nil {
		roles[0].raw, roles[1].raw = s.Identity.Name, s.Identity.Hostname
	}
	observed := false
	for _, e := range o.Entries {
		// presence is judged on what reaches the operator, cleanliness on every request
		must := e.Class.IsOperator() && (every || (!s.ClientVersion.LessThan(identityOnConnects) && e.Class.IsConnect()))
		for _, role := range roles {
			if role.name == "" {
				continue
			}
			vs := values(e, role.name)
			if must {
				observed = true
				if len(vs) == 0 && mustSend(s, role.raw) {
					return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s", e.Method, e.Path, e.Class, role.name)}
				}
			}
			for _, v := range vs {
				if !cleaned {
					continue
				}
				observed = true
				if !cleanedValue(v) {
					return true, &violation{"not-cleaned", fmt.Sprintf("%s %q on %s is not cleaned", role.name, v, e.Class)}
				}
			}
		}
	}
	return observed, nil
}

// mustSend reports whether the cell's client must send an identity header whose raw value
// is raw: always, unless the harness knows the value and the version's rules leave it out.
func mustSend(s Subject, raw string) bool {
	if s.Identity == nil {
		return true
	}
	_, sent := IdentityValue(s.ClientVersion, raw)
	return sent
}
