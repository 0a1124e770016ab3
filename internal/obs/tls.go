package obs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// IsCertificateError reports whether err is the failure to verify the
// server's TLS certificate: an unknown authority, a name the certificate
// does not cover, an expired or otherwise invalid certificate. Sending the
// request again meets the same certificate, so such an error is permanent;
// it is fixed by configuration (a CA bundle, or skipping verification).
func IsCertificateError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		roots     x509.SystemRootsError
		critical  x509.UnhandledCriticalExtension
		algorithm x509.InsecureAlgorithmError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &roots) || errors.As(err, &critical) ||
		errors.As(err, &algorithm)
}
