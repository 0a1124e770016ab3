package obslocal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SelfSignedCert is a throw-away CA and a server certificate it signed, for
// serving HTTPS on loopback. Clients trust CAPEM (the provider's ca_file,
// curl --cacert); the server presents CertPEM with KeyPEM.
type SelfSignedCert struct {
	CAPEM   []byte // the CA certificate
	CertPEM []byte // the server certificate, signed by the CA
	KeyPEM  []byte // the server certificate's private key (PKCS #8)
	pair    tls.Certificate
	pool    *x509.CertPool
}

// selfSignedValidity is how long a generated certificate is valid. The
// certificates are regenerated at every start.
const selfSignedValidity = 365 * 24 * time.Hour

// SelfSignedHosts are the names a server with this virtual-host domain
// answers to: both loopback addresses, localhost, the domain and
// *.domain (one label: bucket names with dots are not covered, as with the
// wildcard certificates of OBS itself).
func SelfSignedHosts(domain string) []string {
	return []string{"127.0.0.1", "::1", "localhost", domain, "*." + domain}
}

// NewSelfSignedCert creates a CA and a server certificate for hosts (IP
// addresses or DNS names, "*." wildcards allowed), both valid from an hour
// ago for validity.
func NewSelfSignedCert(hosts []string, validity time.Duration) (*SelfSignedCert, error) {
	if len(hosts) == 0 {
		return nil, errors.New("obslocal: a certificate needs at least one host")
	}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(time.Hour + validity)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"obslocal"}, CommonName: "obslocal test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("obslocal: creating the CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"obslocal"}, CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("obslocal: creating the server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &SelfSignedCert{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pool:    x509.NewCertPool(),
	}
	c.pool.AddCert(caCert)
	if c.pair, err = tls.X509KeyPair(c.CertPEM, c.KeyPEM); err != nil {
		return nil, err
	}
	return c, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

// CertPool returns a pool holding only the CA, for a client's RootCAs.
func (c *SelfSignedCert) CertPool() *x509.CertPool { return c.pool }

// ServerTLS returns a server configuration presenting the certificate.
func (c *SelfSignedCert) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.pair}, MinVersion: tls.VersionTLS12}
}

// Names of the files WriteFiles writes.
const (
	CAFile   = "ca.pem"
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// WriteFiles writes CAFile, CertFile and KeyFile into dir (created if
// missing), replacing older ones; the key is readable by its owner only.
func (c *SelfSignedCert) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
		perm os.FileMode
	}{{CAFile, c.CAPEM, 0o644}, {CertFile, c.CertPEM, 0o644}, {KeyFile, c.KeyPEM, 0o600}} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes data beside path and renames it over path, so a
// reader never sees half a PEM file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // a leftover would keep its old permissions
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
